from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from contracts_portal.errors import DomainError
from contracts_portal.middleware import TIMEZONE_COOKIE

from .forms import EmailPreferencesForm, PublicProfileForm, TimeZoneForm
from .models import EmailTopic
from .profiles import profile_email_preferences_set, profile_of, profile_public_set, profile_time_zone_set
from .time_zones import format_moment, time_zone_named, zone_name
from .verification import email_is_verified


def _settings_page(request, *, status: int = 200, **forms):
    """The settings page: the person's public profile, time zone, e-mails and account,
    each a form of its own; ``forms`` are the ones just posted, with their errors."""
    profile = profile_of(request.user)
    stored = profile.time_zone if profile else ""
    if "form" not in forms:
        forms["form"] = TimeZoneForm(
            initial={"time_zone": stored or zone_name(timezone.get_current_timezone())}, current=stored
        )
    if "profile_form" not in forms:
        forms["profile_form"] = PublicProfileForm(
            initial={"display_name": profile.display_name, "headline": profile.headline} if profile else {}
        )
    if "email_form" not in forms:
        forms["email_form"] = EmailPreferencesForm(
            initial={
                topic.value: "on" if (profile is None or profile.wants_email(topic)) else "off" for topic in EmailTopic
            }
        )
    browser_zone = time_zone_named(request.COOKIES.get(TIMEZONE_COOKIE, ""))
    return render(
        request,
        "accounts/settings.html",
        {
            **forms,
            "stored_time_zone": stored,
            "browser_time_zone": zone_name(browser_zone) if browser_zone else "",
            "now": timezone.now(),
            "email_verified": email_is_verified(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    """The signed-in person's settings; posted here: their time zone, first taken from the browser."""
    if request.method == "POST":
        profile = profile_of(request.user)
        stored = profile.time_zone if profile else ""
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
        return _settings_page(request, form=form, status=400)
    return _settings_page(request)


@login_required
@require_http_methods(["POST"])
def profile_settings(request):
    """How the person is named to others and the headline of their public profile."""
    form = PublicProfileForm(request.POST)
    if form.is_valid():
        try:
            profile_public_set(
                user=request.user,
                display_name=form.cleaned_data["display_name"],
                headline=form.cleaned_data["headline"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Profile saved: this is how others see you now.")
            return redirect(f"{reverse('account_settings')}#profile")
    return _settings_page(request, profile_form=form, status=400)


@login_required
@require_http_methods(["POST"])
def email_settings(request):
    """Which optional e-mails the person gets; e-mails with a deadline are always sent."""
    form = EmailPreferencesForm(request.POST)
    if form.is_valid():
        try:
            profile_email_preferences_set(user=request.user, topics=form.topics())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "E-mail preferences saved.")
            return redirect(f"{reverse('account_settings')}#emails")
    return _settings_page(request, email_form=form, status=400)
