"""Admin for account suspensions: written once, never changed or deleted."""

from django.contrib import admin

from .models import AccountSuspension


@admin.register(AccountSuspension)
class AccountSuspensionAdmin(admin.ModelAdmin):
    list_display = ("user", "rule", "created_at", "created_by")
    search_fields = ("user__username", "user__email", "rule")
    list_select_related = ("user", "created_by")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    fields = ("user", "rule", "explanation", "created_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("created_at", "created_by")
        return self.fields

    def has_change_permission(self, request, obj=None):
        # The change page stays viewable (read-only) for those who may view it.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            self.message_user(request, f"{obj.user} is suspended: the account is closed and can no longer sign in.")
