"""The admin's *Force end* action. Like Django's delete action it asks first: a page
shows, for each selected contract, what force-ending does now (the plan that
``contract_force_end`` carries out: hours billed and their amount, escrow returned
per milestone, refund requests) with the reason both parties will read, and lists the
contracts it cannot end with the reason why. Only its confirmation, a POST of the
same selection and reason, ends anything; the contracts it could not end are skipped."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from contracts_portal.errors import DomainError

from ..services import contract_force_end
from ..services.ending import contract_force_end_preview

CONFIRMATION_TEMPLATE = "admin/contracts/contract/force_end_confirmation.html"
REASON_MAX_LENGTH = 2000


class ForceEndForm(helpers.ActionForm):
    """The changelist's action bar with the reason beside it. It takes any text:
    ``ForceEndReasonForm`` checks the reason when the action runs, so a bad one gets
    its own sentence rather than Django's "No action selected"."""

    reason = forms.Field(required=False, label="Reason (shown to both parties)")


class ForceEndReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        error_messages={
            "required": "Give a reason to force contracts to end.",
            "max_length": "Keep the reason to %(limit_value)d characters (it has %(show_value)d).",
            "null_characters_not_allowed": "The reason contains a character that cannot be stored (NUL).",
        },
    )


@admin.action(description="Force end the selected contracts", permissions=["force_end"])
def force_end(modeladmin, request, queryset):
    form = ForceEndReasonForm(request.POST)
    if not form.is_valid():
        for error in form.errors["reason"]:
            modeladmin.message_user(request, error, messages.ERROR)
        return None
    reason = form.cleaned_data["reason"]
    contracts = queryset.select_related("client", "freelancer", "notice_given_by").order_by("pk")
    if request.POST.get("post") == "yes":
        return _force_end(modeladmin, request, contracts, reason)
    return _confirmation(modeladmin, request, contracts, reason)


def _confirmation(modeladmin, request, contracts, reason: str) -> TemplateResponse:
    plans, refused = [], []
    for contract in contracts:
        try:
            plans.append(contract_force_end_preview(contract=contract, by=request.user))
        except DomainError as error:
            refused.append((contract, error.message))
    request.current_app = modeladmin.admin_site.name
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Force end contracts?",
        "subtitle": None,
        "opts": modeladmin.model._meta,
        "plans": plans,
        "refused": refused,
        "reason": reason,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "cancel_url": request.get_full_path(),
        "media": modeladmin.media,
    }
    return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)


def _force_end(modeladmin, request, contracts, reason: str) -> None:
    ended = 0
    for contract in contracts:
        try:
            contract_force_end(contract=contract, by=request.user, reason=reason)
        except DomainError as error:
            modeladmin.message_user(request, f"{contract}: {error.message}", messages.ERROR)
        else:
            ended += 1
    if ended:
        modeladmin.message_user(request, f"{ended} contract{'s' if ended != 1 else ''} ended.", messages.SUCCESS)
