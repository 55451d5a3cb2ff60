"""Reviewers' pages: the queue of circumvention flags and disputed refund requests,
a flag with its evidence and the user's history, and a dispute with both sides.

Only reviewers (``contracts.review_flags``) open them; anyone else signed in gets
403. Decisions are POSTs that call one service each; the rules live there."""

from datetime import datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, CharField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from billing.money import format_cents
from billing.selectors import escrow_held_cents
from contracts_portal.errors import DomainError

from .. import services
from ..forms.review import DisputeDecisionForm, FlagDecisionForm
from ..models import (
    AccountSuspension,
    Contract,
    EscrowRefundRequest,
    Feedback,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    FlagRule,
    RefundRequestState,
)
from ..notifications import display_name

PAGE_SIZE = 25
DISPUTES_SHOWN = 50

# Status of a flag = its latest decision; no decision yet = open.
OPEN = "open"
STATUS_OF_DECISION = {
    FlagDecisionKind.DISMISS: "dismissed",
    FlagDecisionKind.WARN: "warned",
    FlagDecisionKind.SUSPEND: "suspended",
    FlagDecisionKind.CLOSED_WITH_ACCOUNT: "closed",
}
STATUSES = {
    OPEN: "Open",
    "dismissed": "Dismissed",
    "warned": "Warned",
    "suspended": "Suspended",
    "closed": "Closed with the account",
    "all": "All",
}


def flags_with_status(queryset=None):
    """Flags annotated with ``status`` (open, dismissed, warned or suspended), the
    latest decision worked out by the database in the same query."""
    queryset = Flag.objects.all() if queryset is None else queryset
    latest = FlagDecision.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id").values("decision")[:1]
    return queryset.annotate(latest_decision=Subquery(latest)).annotate(
        status=Case(
            *(When(latest_decision=kind, then=Value(status)) for kind, status in STATUS_OF_DECISION.items()),
            default=Value(OPEN),
            output_field=CharField(),
        )
    )


def reviewer_required(view):
    """Anonymous → sign-in page; signed in without the permission → 403."""

    @wraps(view)
    def check(request, *args, **kwargs):
        if not services.is_reviewer(request.user):
            raise PermissionDenied("Only reviewers can open the review pages.")
        return view(request, *args, **kwargs)

    return login_required(check)


# The queue.


@reviewer_required
def review_queue(request):
    rule = request.GET.get("rule", "")
    if rule not in FlagRule.values:
        rule = ""
    status = request.GET.get("status", OPEN)
    if status not in STATUSES:
        status = OPEN
    flags = flags_with_status().select_related("subject", "contract")
    if rule:
        flags = flags.filter(rule=rule)
    if status != "all":
        flags = flags.filter(status=status)
    page = Paginator(flags.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))

    disputes = EscrowRefundRequest.objects.filter(state=RefundRequestState.DISPUTED)
    dispute_count = disputes.count()
    disputes = disputes.select_related("contract__client", "contract__freelancer", "milestone").order_by(
        "answered_at", "id"
    )[:DISPUTES_SHOWN]

    query = "".join(f"&{key}={value}" for key, value in (("rule", rule), ("status", status)) if value)
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "flags": page.object_list,
            "rule": rule,
            "status": status,
            "rules": FlagRule.choices,
            "statuses": STATUSES,
            "query": query,
            "disputes": disputes,
            "dispute_count": dispute_count,
        },
    )


# A flag.


def _admin_url(model: str, pk, app: str = "contracts") -> str:
    """The record's change page in the admin ('' if the admin does not show it)."""
    try:
        return reverse(f"admin:{app}_{model}_change", args=[pk])
    except NoReverseMatch:
        return ""


def _when(text):
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _highlighted(text: str, needles: list[str]):
    """The text a user wrote with what the detector matched in <mark>, escaped."""
    spans = []
    lowered = text.lower()
    for needle in {needle for needle in needles if needle}:
        start = lowered.find(needle.lower())
        while start != -1:
            spans.append((start, start + len(needle)))
            start = lowered.find(needle.lower(), start + len(needle))
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    parts, at = [], 0
    for start, end in merged:
        parts.append(format_html("{}<mark>{}</mark>", text[at:start], text[start:end]))
        at = end
    parts.append(format_html("{}", text[at:]))
    return format_html_join("", "{}", ((part,) for part in parts))


EVIDENCE_LABELS = {
    "source": "Where it was written",
    "text": "Text written",
    "matches": "Matched",
    "contract_id": "Contract",
    "contract_url": "Contract page",
    "offer_id": "Offer",
    "offer_url": "Offer page",
    "started_at": "Contract started",
    "ended_at": "Contract ended",
    "escrow_returned_cents": "Escrow returned to the client",
    "earlier_contract_ids": "Earlier quick ends by the same pair",
    "payment_id": "Payment",
    "paid_at": "Paid",
    "amount_cents": "Payment amount",
    "refunded_cents": "Refunded",
    "refunded_at": "Refunded at",
    "also_written": "Also written in the same event",
}


def _evidence_rows(evidence: dict) -> list[tuple[str, object]]:
    """(label, HTML-safe value) for every piece of evidence, in the detector's order."""
    rows = []
    matches = evidence.get("matches") or []
    for key, value in evidence.items():
        if key == "contract_url" and "contract_id" in evidence:
            continue  # shown with the contract's links
        label = EVIDENCE_LABELS.get(key, key.replace("_", " ").capitalize())
        if key == "text" and isinstance(value, str):
            shown = format_html(
                "<blockquote class='evidence-text'>{}</blockquote>",
                _highlighted(value, [match.get("text", "") for match in matches]),
            )
        elif key == "also_written" and isinstance(value, list):
            shown = format_html_join(
                "",
                "<p>{}:</p><blockquote class='evidence-text'>{}</blockquote>",
                (
                    (
                        place.get("source", ""),
                        _highlighted(place.get("text", ""), [m.get("text", "") for m in place.get("matches", [])]),
                    )
                    for place in value
                ),
            )
        elif key == "matches" and isinstance(value, list):
            shown = format_html(
                "<ul class='plain'>{}</ul>",
                format_html_join(
                    "", "<li>{}: <mark>{}</mark></li>", ((m.get("kind", ""), m.get("text", "")) for m in value)
                ),
            )
        elif key.endswith("_cents") and isinstance(value, int):
            shown = format_cents(value)
        elif key.endswith("_at") and _when(value):
            moment = _when(value)
            shown = format_html("<time datetime='{}'>{}</time>", value, f"{moment:%Y-%m-%d %H:%M} UTC")
        elif key == "contract_id":
            shown = _contract_links(value)
        elif key == "earlier_contract_ids" and isinstance(value, list):
            shown = format_html_join(", ", "{}", ((_contract_links(pk),) for pk in value)) if value else "none"
        elif key.endswith("_url") and isinstance(value, str) and value.startswith("/"):
            shown = format_html("<a href='{}'>{}</a>", value, value)
        elif key == "payment_id":
            admin = _admin_url("payment", value, app="billing")
            shown = format_html("<a href='{}'>#{}</a>", admin, value) if admin else f"#{value}"
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows


def _contract_links(pk):
    """Contract pages are for the parties; a reviewer reads the records in the admin."""
    admin = _admin_url("contract", pk)
    return format_html("<a href='{}'>contract #{}</a>", admin, pk) if admin else f"contract #{pk}"


def _subject_history(flag: Flag) -> dict:
    subject = flag.subject
    contracts = (
        Contract.objects.filter(Q(client=subject) | Q(freelancer=subject))
        .select_related("client", "freelancer")
        .order_by("-started_at", "-id")
    )
    earlier_flags = (
        flags_with_status(Flag.objects.filter(subject=subject).exclude(pk=flag.pk))
        .select_related("contract")
        .prefetch_related(
            Prefetch("decisions", queryset=FlagDecision.objects.select_related("decided_by").order_by("created_at"))
        )
        .order_by("-created_at", "-id")
    )
    feedback = (
        Feedback.objects.filter(Q(author=subject) | Q(recipient=subject))
        .select_related("contract", "author", "recipient")
        .order_by("-created_at", "-id")
    )
    return {
        "subject_contracts": contracts,
        "earlier_flags": earlier_flags,
        "subject_feedback": feedback,
        "suspension": AccountSuspension.objects.filter(user=subject).select_related("created_by").first(),
    }


def _flag_page(request, flag: Flag, form, status=200):
    own = flag.subject_id == request.user.pk
    context = {
        "flag": flag,
        "form": None if own else form,
        "own_flag": own,
        "evidence": _evidence_rows(flag.evidence or {}),
        "decisions": flag.decisions.select_related("decided_by").order_by("created_at", "id"),
        "flag_admin_url": _admin_url("flag", flag.pk),
        "contract_admin_url": _admin_url("contract", flag.contract_id) if flag.contract_id else "",
        **_subject_history(flag),
    }
    return render(request, "review/flag.html", context, status=status)


def _decision_message(flag: Flag, made: FlagDecision) -> str:
    subject = display_name(flag.subject)
    if made.decision == FlagDecisionKind.DISMISS:
        return f"Flag dismissed: no action against {subject}."
    if made.decision == FlagDecisionKind.WARN:
        return f"{subject} is warned: they were notified of the rule “{flag.get_rule_display()}”."
    ended = made.suspension.contracts_ended
    return (
        f"{subject}'s account is closed: they can no longer sign in and see the rule “{flag.get_rule_display()}”. "
        f"{ended} open contract{'s' if ended != 1 else ''} ended, with escrow returned to the clients."
    )


@reviewer_required
@require_http_methods(["GET", "POST"])
def flag_detail(request, flag_id: int):
    flag = get_object_or_404(flags_with_status().select_related("subject", "contract"), pk=flag_id)
    if request.method != "POST":
        if flag.subject_id == request.user.pk:
            messages.warning(request, "This flag is about you: another reviewer must decide it.")
        return _flag_page(request, flag, FlagDecisionForm())

    form = FlagDecisionForm(request.POST)
    if not form.is_valid():
        return _flag_page(request, flag, form, status=400)
    try:
        made = services.flag_decide(
            flag=flag,
            by=request.user,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            message_to_user=form.cleaned_data["message_to_user"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _flag_page(request, flag, form, status=409)
    messages.success(request, _decision_message(flag, made))
    return redirect("review_flag", flag_id=flag.pk)


# A dispute.


def _dispute_page(request, refund_request, form, status=200):
    contract = refund_request.contract
    party = request.user.pk in (contract.client_id, contract.freelancer_id)
    decidable = refund_request.state == RefundRequestState.DISPUTED and not party
    return render(
        request,
        "review/dispute.html",
        {
            "refund_request": refund_request,
            "contract": contract,
            "milestone": refund_request.milestone,
            "held_cents": escrow_held_cents(refund_request.milestone),
            "form": form if decidable else None,
            "own_contract": party,
            "contract_admin_url": _admin_url("contract", contract.pk),
            "request_admin_url": _admin_url("escrowrefundrequest", refund_request.pk),
        },
        status=status,
    )


@reviewer_required
@require_http_methods(["GET", "POST"])
def dispute_detail(request, request_id: int):
    refund_request = get_object_or_404(
        EscrowRefundRequest.objects.select_related(
            "contract__client", "contract__freelancer", "milestone", "resolved_by"
        ),
        pk=request_id,
    )
    if request.method != "POST":
        return _dispute_page(request, refund_request, DisputeDecisionForm(amount_cents=refund_request.amount_cents))

    form = DisputeDecisionForm(request.POST, amount_cents=refund_request.amount_cents)
    if not form.is_valid():
        return _dispute_page(request, refund_request, form, status=400)
    freelancer_cents = form.freelancer_cents()
    try:
        services.refund_request_resolve(
            request=refund_request, by=request.user, freelancer_cents=freelancer_cents, note=form.cleaned_data["note"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _dispute_page(request, refund_request, form, status=409)
    client_cents = refund_request.amount_cents - freelancer_cents
    messages.success(
        request,
        f"Dispute decided: {format_cents(freelancer_cents)} to the freelancer, "
        f"{format_cents(client_cents)} back to the client. Both parties are notified.",
    )
    return redirect("review_dispute", request_id=refund_request.pk)
