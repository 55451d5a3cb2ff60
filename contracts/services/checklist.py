from django.db import transaction
from django.utils import timezone

from contracts_portal.errors import DomainError

from ..models import ChecklistItem


def checklist_item_tick(*, item: ChecklistItem, by, done: bool = True) -> ChecklistItem:
    """Tick a step of one's own closure checklist off (or back on)."""
    with transaction.atomic():
        item = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if not (by and by.is_authenticated and by.pk == item.user_id):
            raise DomainError("Only the person whose checklist this is can tick it off.")
        item.done_at = timezone.now() if done else None
        item.save(update_fields=["done_at"])
    return item
