from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.profiles import user_today
from accounts.time_zones import zone_name
from contracts_portal.errors import DomainError

from .. import selectors, services
from ..billing_week import billing_week
from ..forms.diary import DiaryEntryForm
from ..models import DiaryEntry
from .access import party_contract_or_404


def _entry_or_404(contract, entry_id: int) -> DiaryEntry:
    entry = DiaryEntry.objects.filter(contract=contract, pk=entry_id).first()
    if entry is None:
        raise Http404("No such diary entry.")
    entry.contract = contract
    return entry


def _saved(form: DiaryEntryForm, service, **target) -> bool:
    """Run the diary service with the form's values; a refusal becomes a form error,
    so the page shows it beside what was typed."""
    if not form.is_valid():
        return False
    try:
        service(
            work_date=form.cleaned_data["work_date"],
            minutes=form.cleaned_data["total_minutes"],
            memo=form.cleaned_data["memo"],
            **target,
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return False
    return True


@login_required
def diary_page(request, contract_id: int):
    """The work diary of an hourly contract: everyone on the contract reads it, the
    freelancer records time while it is open. After the end it is locked."""
    contract = party_contract_or_404(request.user, contract_id)
    if not contract.is_hourly:
        messages.info(request, "Fixed-price contracts have milestones, not a work diary.")
        return redirect("contract_detail", contract_id=contract.pk)
    is_freelancer = request.user.pk == contract.freelancer_id
    today = user_today(request.user)
    only_today = not contract.manual_time_allowed
    form = DiaryEntryForm(today=today, only_today=only_today)
    if request.method == "POST":
        form = DiaryEntryForm(request.POST, today=today, only_today=only_today)
        if _saved(form, services.diary_entry_add, contract=contract, by=request.user):
            messages.success(request, "Time recorded.")
            return redirect("diary", contract_id=contract.pk)
    entries = Paginator(DiaryEntry.objects.filter(contract=contract).order_by("-work_date", "-id"), 50)
    page = entries.get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.contract = contract
    return render(
        request,
        "contracts/diary.html",
        {
            "contract": contract,
            "summary": selectors.diary_summary(contract, recent=0),
            "page": page,
            "form": form,
            "can_record": is_freelancer and contract.diary_accepts_new_time,
            "can_edit": is_freelancer and not contract.diary_locked,
            "week": billing_week(timezone.now()),
            "terms": selectors.hourly_terms(contract),
            "today": today,
            "viewer_zone": zone_name(timezone.get_current_timezone()),
        },
        status=400 if form.errors else 200,
    )


@login_required
def diary_entry_edit_view(request, contract_id: int, entry_id: int):
    contract = party_contract_or_404(request.user, contract_id)
    entry = _entry_or_404(contract, entry_id)
    today = user_today(request.user)
    if request.method == "POST":
        form = DiaryEntryForm(request.POST, today=today, only_today=not contract.manual_time_allowed)
        if _saved(form, services.diary_entry_edit, entry=entry, by=request.user):
            messages.success(request, "Diary entry updated.")
            return redirect("diary", contract_id=contract.pk)
    else:
        refusal = services.diary_entry_change_refusal(entry=entry, by=request.user)
        if refusal:
            messages.error(request, refusal)
            return redirect("diary", contract_id=contract.pk)
        form = DiaryEntryForm.for_entry(entry, today=today)
    return render(
        request,
        "contracts/diary_entry_edit.html",
        {"contract": contract, "entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def diary_entry_delete_view(request, contract_id: int, entry_id: int):
    contract = party_contract_or_404(request.user, contract_id)
    entry = _entry_or_404(contract, entry_id)
    try:
        services.diary_entry_delete(entry=entry, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Diary entry deleted.")
    return redirect("diary", contract_id=contract.pk)
