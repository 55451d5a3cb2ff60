from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from contracts_portal.errors import DomainError
from contracts_portal.middleware import TIMEZONE_COOKIE

from .forms import TimeZoneForm
from .profiles import profile_of, profile_time_zone_set
from .time_zones import format_moment, time_zone_named, zone_name


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    """The signed-in person's settings: their time zone, first taken from the browser."""
    profile = profile_of(request.user)
    stored = profile.time_zone if profile else ""
    if request.method == "POST":
        form = TimeZoneForm(request.POST, current=stored)
        if form.is_valid():
            try:
                profile_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
            except DomainError as error:
                form.add_error("time_zone", error.message)
            else:
                chosen = time_zone_named(form.cleaned_data["time_zone"])
                messages.success(
                    request,
                    f"Time zone saved: times are now shown in {zone_name(chosen)}; "
                    f"it is {format_moment(timezone.now(), chosen)} there.",
                )
                return redirect("account_settings")
    else:
        form = TimeZoneForm(initial={"time_zone": stored or zone_name(timezone.get_current_timezone())}, current=stored)
    browser_zone = time_zone_named(request.COOKIES.get(TIMEZONE_COOKIE, ""))
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "stored_time_zone": stored,
            "browser_time_zone": zone_name(browser_zone) if browser_zone else "",
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )
