"""Admin for contracts and what hangs on them: diary entries, milestones, refund
requests and the history of state changes. Contracts and milestones are created
through the services, with the checks a client's start or addition gets."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from contracts_portal.errors import DomainError

from ..models import Contract, DiaryEntry, EscrowRefundRequest, Milestone, MilestoneState, StateChange
from ..services import contract_create, milestone_add
from ..services.creation import contract_terms_check, milestone_add_check
from .access import ReviewersMayView
from .force_end import ForceEndForm, force_end
from .readonly import ReadOnlyAdmin, ReadOnlyInline

# Read-only once the contract exists: the terms as agreed (refused by PostgreSQL too);
# the client changes the weekly limit, and both parties the rate, through the portal.
TERMS = (
    "client",
    "freelancer",
    "kind",
    "hourly_rate_cents",
    "weekly_hour_limit",
    "notice_days",
    "started_at",
    "manual_time_allowed",
    "description",
)
END_FIELDS = (
    "state",
    "notice_given_by",
    "notice_given_at",
    "notice_effective_at",
    "end_proposed_by",
    "end_proposed_at",
    "ended_at",
    "ended_by",
    "end_kind",
    "end_reason",
    "end_reason_note",
)


def _as_validation_error(error: DomainError) -> ValidationError:
    return ValidationError(error.message)


class ContractAddForm(forms.ModelForm):
    """A contract started by staff: the same terms check as every other start, and the
    contract is created by the service (``ContractAdmin.save_model``)."""

    class Meta:
        model = Contract
        fields = ("title", "client", "freelancer", "kind", *TERMS[3:])

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            contract_terms_check(
                client=cleaned["client"],
                freelancer=cleaned["freelancer"],
                kind=cleaned["kind"],
                title=cleaned["title"],
                hourly_rate_cents=cleaned.get("hourly_rate_cents"),
                weekly_hour_limit=cleaned.get("weekly_hour_limit"),
                notice_days=cleaned.get("notice_days") or 0,
            )
        except DomainError as error:
            raise _as_validation_error(error) from None
        return cleaned


class MilestoneInline(ReviewersMayView, ReadOnlyInline):
    model = Milestone
    fields = ("position", "title", "amount_cents", "state", "funded_at", "submitted_at", "closed_at")
    readonly_fields = fields
    show_change_link = True


class StateChangeInline(ReviewersMayView, ReadOnlyInline):
    model = StateChange
    fields = ("created_at", "subject", "subject_id", "transition", "source", "target", "actor", "reason")
    readonly_fields = fields


@admin.register(Contract)
class ContractAdmin(ReviewersMayView, admin.ModelAdmin):
    list_display = ("id", "title", "kind", "state", "client", "freelancer", "started_at", "ended_at")
    list_filter = ("state", "kind", "end_kind")
    search_fields = ("title", "client__username", "freelancer__username")
    list_select_related = ("client", "freelancer")
    date_hierarchy = "started_at"
    inlines = [MilestoneInline, StateChangeInline]
    actions = [force_end]
    action_form = ForceEndForm

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return END_FIELDS
        return TERMS + END_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ContractAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = contract_create(**{name: form.cleaned_data[name] for name in ContractAddForm.Meta.fields})
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def has_delete_permission(self, request, obj=None):
        return False

    def has_force_end_permission(self, request):
        return request.user.has_perm("contracts.force_end_contract")


class DiaryEntryAdminForm(forms.ModelForm):
    class Meta:
        model = DiaryEntry
        fields = ("contract", "work_date", "minutes", "memo")

    def clean(self):
        cleaned = super().clean()
        try:
            if self.instance.pk:
                DiaryEntry.objects.select_related("contract").get(pk=self.instance.pk).refuse_change()
            contract = cleaned.get("contract")
            if contract is not None and contract.diary_locked:
                contract_entry = DiaryEntry(contract=contract)
                contract_entry.refuse_change()
        except DomainError as error:
            raise ValidationError(error.message) from None
        return cleaned


@admin.register(DiaryEntry)
class DiaryEntryAdmin(ReviewersMayView, admin.ModelAdmin):
    form = DiaryEntryAdminForm
    list_display = ("id", "contract", "work_date", "minutes", "memo", "invoice")
    list_filter = ("contract__state",)
    search_fields = ("memo", "contract__title")
    list_select_related = ("contract",)
    raw_id_fields = ("contract",)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("contract",)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.contract.diary_locked or obj.is_billed):
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        try:
            queryset.delete()
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)


class MilestoneAddForm(forms.ModelForm):
    """A milestone added by staff, checked as the service checks it (``user`` is the
    staff member, set per request by ``MilestoneAdmin.get_form``)."""

    user = None

    class Meta:
        model = Milestone
        fields = ("contract", "title", "amount_cents", "due_date")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            milestone_add_check(
                contract=cleaned["contract"], by=self.user, title=cleaned["title"], amount_cents=cleaned["amount_cents"]
            )
        except DomainError as error:
            raise _as_validation_error(error) from None
        return cleaned


@admin.register(Milestone)
class MilestoneAdmin(ReviewersMayView, admin.ModelAdmin):
    """Milestones are added through the service (the same checks as the client's), and
    their contract, and their amount once funded, never change."""

    list_display = ("id", "contract", "title", "amount_cents", "state")
    list_filter = ("state",)
    raw_id_fields = ("contract",)
    fields = ("contract", "position", "title", "amount_cents", "due_date", "state", "funded_at", "submitted_at")
    progress = ("state", "funded_at", "submitted_at", "closed_at")

    def get_fields(self, request, obj=None):
        return MilestoneAddForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.state == MilestoneState.PENDING:
            return ("contract", "position", *self.progress)
        return ("contract", "position", "amount_cents", *self.progress)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = type("MilestoneAddForm", (MilestoneAddForm,), {"user": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = milestone_add(by=request.user, **form.cleaned_data)
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EscrowRefundRequest)
class EscrowRefundRequestAdmin(ReviewersMayView, admin.ModelAdmin):
    list_display = ("id", "contract", "milestone", "amount_cents", "state", "respond_by")
    list_filter = ("state",)
    readonly_fields = [f.name for f in EscrowRefundRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StateChange)
class StateChangeAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("created_at", "contract", "subject", "subject_id", "transition", "source", "target", "actor")
    list_filter = ("subject", "transition")
