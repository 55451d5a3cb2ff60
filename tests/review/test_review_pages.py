"""The reviewers' pages (issue 6, "Review" and "Security"): the queue, a flag with its
evidence and the user's history, a dispute with both sides, and the Django admin.

Only reviewers (``contracts.review_flags``) open them: anonymous visitors are sent to
sign in and everyone else signed in gets 403, staff included. Decisions are POSTs
with CSRF that call one service each; flags are raised by the detectors through the
services wherever that is natural."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import EscrowMovement, EscrowMovementKind
from billing.selectors import balance_of, escrow_held_cents
from contracts import services
from contracts.admin.review import ADMIN_DISMISS_NOTE
from contracts.models import (
    AccountSuspension,
    ContractState,
    EscrowRefundRequest,
    Flag,
    FlagDecision,
    FlagDecisionKind,
    FlagRule,
    MilestoneState,
    Notification,
    RefundRequestState,
    rule_public_explanation,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import PASSWORD, FixedContractFactory, HourlyContractFactory, UserFactory
from tests.fixtures.contracts import funded
from tests.fixtures.feedback import ended_contract, freelancer_feedback
from tests.fixtures.money import assert_ledger_balanced
from tests.fixtures.pages import browser_for, unescaped
from tests.fixtures.people import staff_reviewer

pytestmark = pytest.mark.django_db

OFF_PLATFORM = FlagRule.OFF_PLATFORM_CONTACT.label
PAYPAL_COMMENT = "Great client. Next time just pay me on PayPal and we both save the fees."


# Set-up.


def paypal_flag(freelancer=None) -> Flag:
    """The freelancer's feedback comment asks to be paid on PayPal: the text detector
    raises an off-platform flag about the freelancer."""
    contract = ended_contract(freelancer=freelancer or UserFactory(username="felix"))
    freelancer_feedback(contract, public_comment=PAYPAL_COMMENT)
    return Flag.objects.get(rule=FlagRule.OFF_PLATFORM_CONTACT, contract=contract)


def disputed_request(amount_cents=100_00) -> EscrowRefundRequest:
    """A client ends a fixed-price contract paying nothing of a funded milestone; the
    freelancer disputes the refund request."""
    contract = FixedContractFactory(
        client=UserFactory(username="carla"), freelancer=UserFactory(username="fred"), title="Logo design"
    )
    milestone = funded(contract, amount_cents)
    services.contract_end(
        contract=contract,
        by=contract.client,
        reason="completed",
        milestone_decisions={milestone.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
        message_to_freelancer="The logo was never delivered.",
    )
    request = EscrowRefundRequest.objects.get(milestone=milestone)
    services.refund_request_dispute(request=request, by=contract.freelancer, statement="I delivered three drafts.")
    return EscrowRefundRequest.objects.get(pk=request.pk)


def flag_url(flag) -> str:
    return reverse("review_flag", args=[flag.pk])


def dispute_url(request) -> str:
    return reverse("review_dispute", args=[request.pk])


# Who may open the review pages.


@pytest.fixture
def world():
    flag = paypal_flag()
    dispute = disputed_request()
    return {"flag": flag, "dispute": dispute, "reviewer": staff_reviewer()}


def _visitor(role: str, world, url_name: str):
    if role == "party":
        contract = world["dispute"].contract if url_name == "dispute" else world["flag"].contract
        return contract.client
    if role == "unrelated":
        return UserFactory(username="ursula")
    if role == "staff":
        staff = UserFactory(username="stan", is_staff=True)
        staff.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="contracts").exclude(codename="review_flags")
        )
        return staff
    if role == "reviewer":
        return world["reviewer"]
    return None


def _url(url_name: str, world) -> str:
    if url_name == "queue":
        return reverse("review_queue")
    if url_name == "flag":
        return flag_url(world["flag"])
    return dispute_url(world["dispute"])


@pytest.mark.parametrize("url_name", ["queue", "flag", "dispute"])
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("unrelated", 403), ("party", 403), ("staff", 403), ("reviewer", 200)]
)
def test_only_reviewers_open_the_review_pages(world, url_name, role, expected):
    url = _url(url_name, world)
    user = _visitor(role, world, url_name)
    browser = browser_for(user) if user else Client()

    response = browser.get(url)

    assert response.status_code == expected
    if role == "anonymous":
        assert response.url.startswith(reverse("login"))
    if expected == 403:
        assert PAYPAL_COMMENT not in unescaped(response)


@pytest.mark.parametrize("role", ["anonymous", "unrelated", "party", "staff"])
def test_non_reviewers_cannot_decide_by_post(world, role):
    user = _visitor(role, world, "flag")
    browser = browser_for(user) if user else Client()

    flag_response = browser.post(flag_url(world["flag"]), {"decision": "suspend", "note": "Gone"})
    dispute_response = browser.post(
        dispute_url(world["dispute"]), {"outcome": "freelancer", "note": "All to the freelancer"}
    )

    assert flag_response.status_code == dispute_response.status_code == (302 if role == "anonymous" else 403)
    assert not FlagDecision.objects.exists()
    assert not AccountSuspension.objects.exists()
    assert EscrowRefundRequest.objects.get(pk=world["dispute"].pk).state == RefundRequestState.DISPUTED


def test_review_link_in_the_navigation_only_for_reviewers(world):
    review_link = f'href="{reverse("review_queue")}"'
    staff = UserFactory(username="stan", is_staff=True)
    assert review_link not in browser_for(staff).get(reverse("my_jobs")).content.decode()
    assert review_link in browser_for(world["reviewer"]).get(reverse("my_jobs")).content.decode()


# The flag page.


def test_flag_page_shows_the_rule_evidence_and_the_users_history_with_private_feedback(world):
    flag = world["flag"]
    earlier = Flag.objects.create(
        rule=FlagRule.QUICK_REFUND,
        subject=flag.subject,
        explanation="Earlier refund",
        dedupe_key="earlier-refund",
        created_at=timezone.now() - timedelta(days=40),
    )
    services.flag_decide(flag=earlier, by=world["reviewer"], decision="warn", note="First warning about refunds")
    open_contract = HourlyContractFactory(freelancer=flag.subject, title="Ongoing API work")

    response = browser_for(world["reviewer"]).get(flag_url(flag))

    page = unescaped(response)
    assert OFF_PLATFORM in page
    assert flag.explanation in page
    assert "<mark>pay me on PayPal</mark>" in page or "<mark>PayPal</mark>" in page
    assert "payment service" in page
    assert reverse("admin:contracts_contract_change", args=[flag.contract_id]) in page
    assert reverse("admin:contracts_contract_change", args=[flag.contract_id]) in page
    # History: contracts as freelancer with their state, earlier flags and decisions.
    assert flag.contract.title in page and open_contract.title in page
    assert "Active" in page and "Ended" in page
    assert "Warned" in page and "First warning about refunds" in page
    # Private feedback given: the reason and likelihood to recommend (reviewers only).
    assert PAYPAL_COMMENT in page
    assert "Job completed successfully" in page
    assert "10/10" in page
    assert 'name="decision"' in response.content.decode()


def test_quick_end_flag_page_shows_the_amounts_dates_and_links(world):
    contract = FixedContractFactory(title="Quick exit", started_at=timezone.now() - timedelta(days=2))
    funded(contract, 80_00)
    services.contract_end(contract=contract, by=contract.freelancer, reason="other")
    flag = Flag.objects.get(rule=FlagRule.QUICK_END, contract=contract)
    contract.refresh_from_db()

    page = unescaped(browser_for(world["reviewer"]).get(flag_url(flag)))

    assert "Escrow returned to the client" in page and "$80.00" in page
    assert f"{contract.started_at:%Y-%m-%d %H:%M} UTC" in page
    assert f"{contract.ended_at:%Y-%m-%d %H:%M} UTC" in page
    assert reverse("admin:contracts_contract_change", args=[contract.pk]) in page
    assert reverse("admin:contracts_flag_change", args=[flag.pk]) in page
    assert flag.subject == contract.freelancer


def test_unknown_flag_and_dispute_are_404_for_a_reviewer(world):
    browser = browser_for(world["reviewer"])
    assert browser.get(reverse("review_flag", args=[999_999])).status_code == 404
    assert browser.get(reverse("review_dispute", args=[999_999])).status_code == 404


def test_dismiss_by_post_records_who_when_and_why(world):
    flag, reviewer = world["flag"], world["reviewer"]

    response = browser_for(reviewer).post(flag_url(flag), {"decision": "dismiss", "note": "A quote, not a request"})

    assert response.status_code == 302 and response.url == flag_url(flag)
    decision = FlagDecision.objects.get(flag=flag)
    assert (decision.decision, decision.decided_by, decision.note) == ("dismiss", reviewer, "A quote, not a request")
    page = unescaped(browser_for(reviewer).get(flag_url(flag)))
    assert "Dismissed" in page and "A quote, not a request" in page


def test_get_never_decides(world):
    browser = browser_for(world["reviewer"])
    response = browser.get(flag_url(world["flag"]), {"decision": "suspend", "note": "Via GET"})
    assert response.status_code == 200
    response = browser.get(dispute_url(world["dispute"]), {"outcome": "freelancer", "note": "Via GET"})
    assert response.status_code == 200
    assert not FlagDecision.objects.exists()
    assert not AccountSuspension.objects.exists()
    assert EscrowRefundRequest.objects.get(pk=world["dispute"].pk).state == RefundRequestState.DISPUTED


def test_decisions_need_the_csrf_token(world):
    browser = browser_for(world["reviewer"], enforce_csrf_checks=True)

    flag_response = browser.post(flag_url(world["flag"]), {"decision": "suspend", "note": "No token"})
    dispute_response = browser.post(dispute_url(world["dispute"]), {"outcome": "client", "note": "No token"})

    assert flag_response.status_code == dispute_response.status_code == 403
    assert not FlagDecision.objects.exists()
    assert EscrowRefundRequest.objects.get(pk=world["dispute"].pk).state == RefundRequestState.DISPUTED


def test_decision_form_keeps_the_typed_note_when_the_choice_is_missing(world):
    response = browser_for(world["reviewer"]).post(flag_url(world["flag"]), {"note": "Half-typed note"})
    assert response.status_code == 400
    page = unescaped(response)
    assert "Choose dismiss, warn or suspend." in page
    assert "Half-typed note" in page
    assert not FlagDecision.objects.exists()


def test_a_reviewer_cannot_decide_a_flag_about_themselves():
    reviewer = staff_reviewer()
    flag = paypal_flag(freelancer=reviewer)
    browser = browser_for(reviewer)

    page = browser.get(flag_url(flag))
    assert page.status_code == 200
    assert 'name="decision"' not in page.content.decode()
    assert "another reviewer must decide it" in unescaped(page)

    response = browser.post(flag_url(flag), {"decision": "dismiss", "note": "Nothing to see here"})
    assert "You cannot review a flag about yourself; another reviewer must decide it." in unescaped(response)
    assert not FlagDecision.objects.exists()


def test_warn_notifies_the_user_naming_the_rule_with_the_message_to_them_not_the_internal_note(world):
    flag = world["flag"]

    response = browser_for(world["reviewer"]).post(
        flag_url(flag),
        {"decision": "warn", "note": "Seen twice.", "message_to_user": "Keep payments on the portal."},
        follow=True,
    )

    assert f"they were notified of the rule “{OFF_PLATFORM}”" in unescaped(response)
    note = Notification.objects.filter(user=flag.subject, message__startswith="Warning from the platform").get()
    assert OFF_PLATFORM in note.message and "Keep payments on the portal." in note.message
    assert "Seen twice." not in note.message
    assert FlagDecision.objects.get(flag=flag).decision == FlagDecisionKind.WARN
    assert flag.subject.is_active


def test_suspend_ends_open_contracts_returns_escrow_and_the_user_cannot_sign_in(world):
    flag, reviewer = world["flag"], world["reviewer"]
    freelancer = flag.subject
    fixed = FixedContractFactory(freelancer=freelancer, title="Open fixed-price work")
    milestone = funded(fixed, 250_00)
    hourly = HourlyContractFactory(freelancer=freelancer, title="Open hourly work")
    assert escrow_held_cents(milestone) == 250_00
    assert balance_of(f"client-funds:{fixed.client_id}") == -262_50

    response = browser_for(reviewer).post(
        flag_url(flag), {"decision": "suspend", "note": "Asked for PayPal payments."}, follow=True
    )

    page = unescaped(response)
    assert "account is closed" in page and "2 open contracts ended" in page
    for contract in (fixed, hourly):
        contract.refresh_from_db()
        assert contract.state == ContractState.ENDED
        assert contract.end_kind == "forced"
    milestone.refresh_from_db()
    assert milestone.state == MilestoneState.REFUNDED
    assert escrow_held_cents(milestone) == 0
    assert balance_of(f"escrow:{fixed.pk}") == 0
    assert balance_of(f"client-funds:{fixed.client_id}") == 0
    assert EscrowMovement.objects.filter(milestone=milestone, kind=EscrowMovementKind.RETURN).count() == 1
    assert_ledger_balanced()

    suspension = AccountSuspension.objects.get(user=freelancer)
    assert (suspension.rule, suspension.created_by, suspension.explanation, suspension.internal_note) == (
        OFF_PLATFORM,
        reviewer,
        rule_public_explanation(FlagRule.OFF_PLATFORM_CONTACT),
        "Asked for PayPal payments.",
    )
    sign_in = Client().post(reverse("login"), {"login": freelancer.username, "password": PASSWORD})
    assert sign_in.status_code == 200
    assert f"permanently closed on {suspension.created_at:%Y-%m-%d}: {OFF_PLATFORM}" in unescaped(sign_in)
    assert "_auth_user_id" not in sign_in.wsgi_request.session


def test_suspending_an_already_closed_account_is_refused_with_a_message(world):
    flag, reviewer = world["flag"], world["reviewer"]
    browser = browser_for(reviewer)
    browser.post(flag_url(flag), {"decision": "suspend", "note": "First"})

    response = browser.post(flag_url(flag), {"decision": "suspend", "note": "Second"})

    assert response.status_code == 409
    assert "This account is already closed." in unescaped(response)
    assert FlagDecision.objects.filter(flag=flag).count() == 1


# The queue.


def _flags(count: int, *, rule=FlagRule.QUICK_END, prefix="bulk", subject=None, contract=None):
    subject = subject or UserFactory()
    now = timezone.now()
    return [
        Flag.objects.create(
            rule=rule,
            subject=subject,
            contract=contract,
            explanation=f"{prefix} flag {number}",
            dedupe_key=f"{prefix}:{number}",
            created_at=now - timedelta(minutes=number),
        )
        for number in range(count)
    ]


def test_queue_shows_open_flags_newest_first_by_default(world):
    _flags(2, prefix="ordered")
    decided = _flags(1, prefix="decided")[0]
    services.flag_decide(flag=decided, by=world["reviewer"], decision="dismiss", note="Fine")

    page = unescaped(browser_for(world["reviewer"]).get(reverse("review_queue")))

    # "ordered flag 0" was raised just now, the PayPal flag a moment earlier, "ordered flag 1" a minute ago.
    assert page.index("ordered flag 0") < page.index(world["flag"].explanation[:60]) < page.index("ordered flag 1")
    assert "decided flag 0" not in page
    assert world["dispute"].contract.title in page
    assert dispute_url(world["dispute"]) in page


def test_queue_filters_by_rule_and_status(world):
    reviewer = world["reviewer"]
    quick = _flags(2, rule=FlagRule.QUICK_END, prefix="quick")
    refund = _flags(2, rule=FlagRule.QUICK_REFUND, prefix="refund")
    services.flag_decide(flag=quick[0], by=reviewer, decision="warn", note="Warned")
    services.flag_decide(flag=refund[0], by=reviewer, decision="warn", note="Warned")
    services.flag_decide(flag=refund[1], by=reviewer, decision="warn", note="Warned first")
    services.flag_decide(flag=refund[1], by=reviewer, decision="dismiss", note="Then dismissed")
    browser = browser_for(reviewer)

    def shown(**params) -> set[str]:
        page = unescaped(browser.get(reverse("review_queue"), params))
        candidates = ["quick flag 0", "quick flag 1", "refund flag 0", "refund flag 1", "A feedback comment on"]
        return {text for text in candidates if text in page}

    assert shown() == {"quick flag 1", "A feedback comment on"}
    assert shown(rule=FlagRule.QUICK_END) == {"quick flag 1"}
    assert shown(rule=FlagRule.QUICK_REFUND) == set()
    assert shown(status="warned") == {"quick flag 0", "refund flag 0"}
    assert shown(status="warned", rule=FlagRule.QUICK_REFUND) == {"refund flag 0"}
    assert shown(status="dismissed") == {"refund flag 1"}  # the latest decision is the status
    assert shown(status="suspended") == set()
    assert shown(status="all", rule=FlagRule.QUICK_REFUND) == {"refund flag 0", "refund flag 1"}


def test_queue_runs_the_same_queries_for_5_and_30_flags(django_assert_max_num_queries):
    reviewer = staff_reviewer()
    browser = browser_for(reviewer)
    small = _flags(5, prefix="small", contract=FixedContractFactory())
    for flag in small[:2]:
        services.flag_decide(flag=flag, by=reviewer, decision="warn", note="Warned")
    disputed_request()
    url = reverse("review_queue")

    browser.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url, {"status": "all"})
    assert response.status_code == 200
    small_queries = len(captured)

    for number in range(25):
        _flags(1, prefix=f"large{number}", contract=FixedContractFactory())
    for flag in Flag.objects.all()[:10]:
        services.flag_decide(flag=flag, by=reviewer, decision="dismiss", note="Fine")
    assert Flag.objects.count() == 30
    with django_assert_max_num_queries(small_queries):
        response = browser.get(url, {"status": "all"})
    assert response.status_code == 200
    assert unescaped(response).count("/review/flags/") == 25
    assert "Page 1 of 2" in unescaped(response)


# Disputes.


def test_dispute_page_shows_both_statements_the_amount_and_the_milestone(world):
    dispute = world["dispute"]
    page = unescaped(browser_for(world["reviewer"]).get(dispute_url(dispute)))
    assert "The logo was never delivered." in page
    assert "I delivered three drafts." in page
    assert "$100.00" in page
    assert dispute.milestone.title in page and dispute.contract.title in page
    assert 'name="outcome"' in page and 'name="freelancer_share"' in page


def test_dispute_split_moves_the_money_once(world):
    dispute, reviewer = world["dispute"], world["reviewer"]
    milestone, contract = dispute.milestone, dispute.contract
    browser = browser_for(reviewer)
    data = {"outcome": "split", "freelancer_share": "30", "note": "Two drafts of three were delivered."}

    first = browser.post(dispute_url(dispute), data, follow=True)

    assert "Dispute decided: $30.00 to the freelancer, $70.00 back to the client." in unescaped(first)
    dispute.refresh_from_db()
    assert dispute.state == RefundRequestState.RESOLVED
    assert (dispute.freelancer_share_cents, dispute.resolved_by) == (30_00, reviewer)
    assert escrow_held_cents(milestone) == 0
    movements = list(
        EscrowMovement.objects.filter(milestone=milestone)
        .exclude(kind=EscrowMovementKind.FUND)
        .values_list("kind", "amount_cents")
    )
    assert sorted(movements) == [(EscrowMovementKind.RELEASE, 30_00), (EscrowMovementKind.RETURN, 70_00)]
    earnings = balance_of(f"earnings:{contract.freelancer_id}")

    second = browser.post(dispute_url(dispute), {**data, "freelancer_share": "100"})

    assert second.status_code == 409
    assert "You cannot decide this" in unescaped(second)
    assert EscrowMovement.objects.filter(milestone=milestone).count() == len(movements) + 1
    assert balance_of(f"earnings:{contract.freelancer_id}") == earnings
    assert_ledger_balanced()


def test_dispute_all_to_the_client_returns_everything(world):
    dispute = world["dispute"]
    response = browser_for(world["reviewer"]).post(
        dispute_url(dispute), {"outcome": "client", "freelancer_share": "", "note": "Nothing was delivered."}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.freelancer_share_cents == 0
    assert EscrowMovement.objects.filter(milestone=dispute.milestone, kind=EscrowMovementKind.RELEASE).count() == 0
    assert escrow_held_cents(dispute.milestone) == 0
    assert balance_of(f"client-funds:{dispute.contract.client_id}") == 0
    assert_ledger_balanced()


def test_dispute_split_without_an_amount_keeps_the_typed_input(world):
    dispute = world["dispute"]
    response = browser_for(world["reviewer"]).post(
        dispute_url(dispute), {"outcome": "split", "freelancer_share": "", "note": "Typed note"}
    )
    assert response.status_code == 400
    page = unescaped(response)
    assert "Enter the freelancer's share" in page and "Typed note" in page
    assert EscrowRefundRequest.objects.get(pk=dispute.pk).state == RefundRequestState.DISPUTED


def test_dispute_share_above_the_request_is_refused_by_the_service(world):
    dispute = world["dispute"]
    response = browser_for(world["reviewer"]).post(
        dispute_url(dispute), {"outcome": "split", "freelancer_share": "150", "note": "Too much"}
    )
    assert response.status_code == 409
    assert "must be between $0.00 and $100.00" in unescaped(response)
    assert EscrowRefundRequest.objects.get(pk=dispute.pk).state == RefundRequestState.DISPUTED


# The Django admin.


def test_admin_flags_and_feedback_only_for_reviewers(world):
    staff = UserFactory(username="stan", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_feedback", "view_flag"]))
    reviewer = world["reviewer"]
    for url in (
        reverse("admin:contracts_flag_changelist"),
        reverse("admin:contracts_flagdecision_changelist"),
        reverse("admin:contracts_feedback_changelist"),
        reverse("admin:contracts_flag_change", args=[world["flag"].pk]),
    ):
        assert browser_for(staff).get(url).status_code == 403
        assert browser_for(reviewer).get(url).status_code == 200

    change = unescaped(browser_for(reviewer).get(reverse("admin:contracts_flag_change", args=[world["flag"].pk])))
    assert '"text": "Great client. Next time just pay me on PayPal' in change
    assert flag_url(world["flag"]) in change


def test_every_link_on_the_review_pages_opens_for_a_reviewer_without_other_permissions(world):
    """Contract pages are for the parties; the reviewer follows the review pages' links
    to the contract's records in the admin, which they may read but not change."""
    reviewer, staff = world["reviewer"], UserFactory(username="stan", is_staff=True)
    pages = [flag_url(world["flag"]), dispute_url(world["dispute"])]
    links = set()
    for page in pages:
        links |= set(
            re.findall(r"href=['\"](/(?:admin|review)/[^'\"#?]+)['\"]", unescaped(browser_for(reviewer).get(page)))
        )
    contract_pages = {
        reverse("admin:contracts_contract_change", args=[world[key].contract.pk]) for key in world if key != "reviewer"
    }
    assert contract_pages <= links
    for link in sorted(links):
        assert browser_for(reviewer).get(link).status_code == 200, link
    for link in sorted(contract_pages):
        assert browser_for(staff).get(link).status_code == 403
        assert 'name="_save"' not in unescaped(browser_for(reviewer).get(link))
    assert reverse("contract_detail", args=[world["flag"].contract.pk]) not in "".join(links)


def test_admin_dismiss_action_dismisses_and_reports_refusals():
    reviewer = staff_reviewer()
    others = paypal_flag()
    own = paypal_flag(freelancer=reviewer)
    admin = browser_for(reviewer)

    response = admin.post(
        reverse("admin:contracts_flag_changelist"),
        {"action": "dismiss_selected", "_selected_action": [others.pk, own.pk]},
        follow=True,
    )

    page = unescaped(response)
    assert "1 flag dismissed." in page
    assert "another reviewer must decide it" in page
    decision = FlagDecision.objects.get()
    assert (decision.flag, decision.decision, decision.note) == (others, "dismiss", ADMIN_DISMISS_NOTE)
    listing = unescaped(admin.get(reverse("admin:contracts_flag_changelist"), {"status": "dismissed"}))
    assert "Dismissed" in listing
