from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .. import selectors

STATUSES = {"active": "Active", "ended": "Ended", "all": "All"}


@login_required
def my_jobs(request):
    """My Jobs: the user's contracts as freelancer and as client, newest first."""
    status = request.GET.get("status", "active")
    if status not in STATUSES:
        status = "active"
    page = Paginator(selectors.my_jobs(request.user, status=status), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "contracts/my_jobs.html",
        {"page": page, "status": status, "statuses": STATUSES, "counts": selectors.job_counts(request.user)},
    )
