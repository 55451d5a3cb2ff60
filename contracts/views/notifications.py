from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from ..models import Notification

PAGE_SIZE = 25


def local_path(request, target: str) -> str | None:
    """``target`` if it is a path on this site, else None: never another host, a
    scheme, or a URL name (``redirect()`` would resolve "0" or "logout")."""
    if (
        target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return None


@login_required
def notification_list(request):
    """The signed-in user's notifications, newest first; POST marks them all as read."""
    if request.method == "POST":
        marked = Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
        if marked:
            messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
        else:
            messages.info(request, "You have no unread notifications.")
        back = local_path(request, request.POST.get("next", ""))
        return HttpResponseRedirect(back) if back else redirect("notifications")
    notifications = Notification.objects.filter(user=request.user).only(
        "id", "contract_id", "kind", "message", "link", "created_at", "read_at"
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "contracts/notifications.html", {"page": page, "notifications": page.object_list})


@login_required
@require_GET
def notification_open(request, notification_id: int):
    """Open one of the signed-in user's notifications: mark it read, and go to what it
    is about (its link, else its contract, else the list).

    A plain link (GET), deliberately: it opens in a new tab, works without JavaScript
    and reads as a link to screen readers. Marking one's own notification read is the
    only effect, idempotent and harmless; the session cookie is SameSite=Lax, so
    another site cannot do it from an image or a form, only by sending the person
    here. Where it goes comes from the stored notification, never from the request,
    and only to a path on this site. Anyone else's notification is 404.
    """
    notification = get_object_or_404(
        Notification.objects.only("id", "user_id", "contract_id", "link", "read_at"),
        pk=notification_id,
        user=request.user,
    )
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    target = local_path(request, notification.link)
    if target is None and notification.contract_id:
        target = reverse("contract_detail", args=[notification.contract_id])
    return HttpResponseRedirect(target or reverse("notifications"))
