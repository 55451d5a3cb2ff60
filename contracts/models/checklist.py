from django.conf import settings
from django.db import models

CLIENT_CHECKLIST = (
    ("revoke_passwords", "Revoke passwords given to the freelancer"),
    ("revoke_access", "Remove the freelancer's special access (accounts, repositories, servers, tools)"),
)
FREELANCER_CHECKLIST = (
    ("turn_in_work", "Turn in all work"),
    ("return_materials", "Return the client's materials and equipment"),
    ("remove_client_property", "Remove the client's property (documents, files, software) from your devices"),
)


class ChecklistItem(models.Model):
    """One step of the closure checklist a party works through after a contract ends.
    The party ticks it off; the other party sees how far they are."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="checklist_items")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checklist_items")
    code = models.CharField(max_length=40)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("contract", "user", "position")
        constraints = [models.UniqueConstraint(fields=["contract", "user", "code"], name="checklist_item_once")]

    def __str__(self) -> str:
        return f"{self.label} ({'done' if self.done_at else 'to do'})"
