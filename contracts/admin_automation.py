from django.contrib import admin

from .models import ChecklistItem, OutgoingEmail, ScheduledJob


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the portal writes and workers update: shown, never edited by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
