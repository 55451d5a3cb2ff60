from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from offers import selectors as offer_selectors

from .. import selectors

STATUSES = {"active": "Active", "ended": "Ended", "all": "All", "offers": "Offers"}
PAGE_SIZE = 20


@login_required
def my_jobs(request):
    """My Jobs: the user's contracts as freelancer and as client, newest first, or
    their offers (sent and received, with state and expiry); above either, the offers
    waiting for the user's answer, the soonest to expire first."""
    status = request.GET.get("status", "active")
    if status not in STATUSES:
        status = "active"
    user = request.user
    rows = offer_selectors.offers_of(user) if status == "offers" else selectors.my_jobs(user, status=status)
    return render(
        request,
        "contracts/my_jobs.html",
        {
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "status": status,
            "statuses": STATUSES,
            "counts": selectors.job_counts(user),
            "offer_counts": offer_selectors.offer_counts(user),
            "waiting_offers": offer_selectors.offers_waiting_for(user),
        },
    )
