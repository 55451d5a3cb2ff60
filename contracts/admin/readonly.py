"""Records the admin shows and never lets anyone edit, for the contracts and billing
admins alike."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the portal writes: money records (append-only), scheduled work and e-mail
    that workers update, feedback. Shown, never added, changed or deleted by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows listed on their parent's page, never added, changed or removed there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
