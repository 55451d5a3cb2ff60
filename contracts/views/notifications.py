from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from ..models import Notification

PAGE_SIZE = 25


@login_required
def notification_list(request):
    """The signed-in user's notifications, newest first; POST marks them all as read."""
    if request.method == "POST":
        marked = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
        if marked:
            messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
        else:
            messages.info(request, "You have no unread notifications.")
        back = request.POST.get("next", "")
        # Only a path on this site; redirect() would also take a URL name ("0" → 500).
        if back.startswith("/") and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(back)
        return redirect("notifications")
    notifications = Notification.objects.filter(user=request.user).only(
        "id", "contract_id", "kind", "message", "link", "created_at", "read_at"
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "contracts/notifications.html", {"page": page, "notifications": page.object_list})
