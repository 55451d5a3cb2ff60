from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contracts_portal.errors import DomainError

from ..models import ChecklistItem, JobKind
from .jobs import job_handler, job_notify


def checklist_item_tick(*, item: ChecklistItem, by, done: bool = True) -> ChecklistItem:
    """Tick a step of one's own closure checklist off (or back on)."""
    with transaction.atomic():
        item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if not (by and by.is_authenticated and by.pk == item.user_id):
            raise DomainError("Only the person whose checklist this is can tick it off.")
        item.done_at = timezone.now() if done else None
        item.save(update_fields=["done_at"])
    return item


@job_handler(JobKind.CLOSURE_CHECKLIST)
def _closure_checklist(job) -> str:
    items = list(ChecklistItem.objects.filter(contract=job.contract, user=job.recipient).order_by("position"))
    return job_notify(
        job,
        subject=f"Closing “{job.contract.title}”: your checklist",
        message=(
            f"The contract “{job.contract.title}” has ended. Your closure checklist has "
            f"{len(items)} step{'s' if len(items) != 1 else ''}; tick them off on the contract page."
        ),
        template="closure_checklist",
        context={
            "items": items,
            "is_freelancer": job.recipient_id == job.contract.freelancer_id,
            "refund_window_days": settings.REFUND_WINDOW_DAYS,
            "refunds_url": settings.PORTAL_BASE_URL + reverse("refunds"),
        },
    )
