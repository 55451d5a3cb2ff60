"""Admin for account suspensions: made through the suspension service (the same one
the review queue uses), never changed or deleted afterwards."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from contracts_portal.errors import DomainError

from ..models import AccountSuspension
from ..services import account_suspend
from ..services.review import may_suspend


class AccountSuspensionAddForm(forms.ModelForm):
    """``by`` is the staff member suspending, set per request by ``get_form``."""

    by = None

    class Meta:
        model = AccountSuspension
        fields = ("user", "rule", "explanation", "message_to_user", "internal_note")
        labels = {
            "explanation": "Public explanation of the rule",
            "message_to_user": "Message to the user (optional)",
            "internal_note": "Internal note (reviewers only)",
        }

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is None:
            return cleaned
        if not may_suspend(self.by):
            raise forms.ValidationError("Only reviewers and administrators allowed to close accounts can do this.")
        if user.pk == self.by.pk:
            raise forms.ValidationError("You cannot close your own account.")
        return cleaned

    def validate_unique(self):
        """The one-suspension-per-user rule is the service's, with its own sentence."""
        if AccountSuspension.objects.filter(user=self.cleaned_data.get("user")).exists():
            self.add_error("user", "This account is already closed.")


@admin.register(AccountSuspension)
class AccountSuspensionAdmin(admin.ModelAdmin):
    list_display = ("user", "rule", "created_at", "created_by")
    search_fields = ("user__username", "user__email", "rule")
    list_select_related = ("user", "created_by")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    fields = ("user", "rule", "explanation", "message_to_user", "internal_note", "created_at", "created_by")

    def get_fields(self, request, obj=None):
        return AccountSuspensionAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("AccountSuspensionAddForm", (AccountSuspensionAddForm,), {"by": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None):
        # The change page stays viewable (read-only) for those who may view it.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Suspend through the service: the account is closed, its open contracts end
        (escrow back to the clients) and its open flags close, all in one transaction."""
        try:
            made = account_suspend(by=request.user, **form.cleaned_data)
        except DomainError as error:
            # The form checked all this; only a suspension made meanwhile gets here.
            request.suspension_refused = error.message
            return
        obj.pk, obj._state.adding, obj._state.db = made.pk, False, made._state.db

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            return super().log_addition(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        refused = getattr(request, "suspension_refused", None)
        if refused:
            self.message_user(request, refused, level=messages.ERROR)
            return redirect("admin:contracts_accountsuspension_changelist")
        self.message_user(
            request,
            f"{obj.user} is suspended: the account is closed and can no longer sign in, its open contracts "
            "were ended by the platform with escrow returned to the clients, and its open flags were closed.",
        )
        return redirect("admin:contracts_accountsuspension_changelist")
