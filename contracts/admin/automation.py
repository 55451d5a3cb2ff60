from django.contrib import admin

from ..models import ChecklistItem, OutgoingEmail, ScheduledJob
from .readonly import ReadOnlyAdmin


@admin.register(ScheduledJob)
class ScheduledJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "contract", "recipient", "due_at", "state", "attempts", "finished_at", "outcome")
    list_filter = ("state", "kind")
    search_fields = ("key", "contract__title")
    list_select_related = ("contract", "recipient")
    date_hierarchy = "due_at"


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    list_display = ("id", "to", "subject", "state", "attempts", "created_at", "sent_at")
    list_filter = ("state",)
    search_fields = ("to", "subject", "key")


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyAdmin):
    list_display = ("contract", "user", "label", "done_at")
    list_select_related = ("contract", "user")
