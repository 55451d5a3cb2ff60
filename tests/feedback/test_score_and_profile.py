"""The value-weighted feedback score and the public profile (DESIGN.md, "Feedback"):
only revealed feedback on contracts whose payments after refunds came to at least
$1 counts and shows; each contract weighs what it paid; a mutual, no-fault end
leaves the score as it was unless feedback was left on it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import services
from contracts.reputation import feedback_score, scored_feedback
from tests.factories import FixedContractFactory
from tests.fixtures.feedback import (
    CLIENT_COMMENT,
    CLIENT_SCORES,
    FREELANCER_COMMENT,
    client_feedback,
    ended_contract,
    freelancer_feedback,
    pay,
)
from tests.fixtures.pages import unescaped
from tests.fixtures.people import person

pytestmark = pytest.mark.django_db


def profile_page(client, username: str) -> str:
    response = client.get(reverse("profile", args=[username]))
    assert response.status_code == 200
    return unescaped(response)


def score_shown(page: str) -> str:
    return re.search(r'id="score"><strong>([^<]+)</strong>', page).group(1)


def both_leave_feedback(contract, *, client_scores=CLIENT_SCORES, comment=CLIENT_COMMENT):
    client_feedback(contract, scores=client_scores, public_comment=comment)
    freelancer_feedback(contract)


# The $1 rule.


def test_feedback_on_a_contract_whose_payments_after_refunds_are_below_1_dollar_is_not_shown_nor_scored(
    client, clara, felix
):
    contract = ended_contract(client=clara, freelancer=felix, paid_cents=100_00, refund_cents=99_50)
    both_leave_feedback(contract)

    assert feedback_score(felix).hundredths is None
    assert feedback_score(felix).contracts == 0
    page = profile_page(client, "felix")
    assert CLIENT_COMMENT not in page
    assert score_shown(page) == "No feedback yet"
    assert "based on 0 contracts" in page
    assert "No public feedback yet." in page
    assert FREELANCER_COMMENT not in profile_page(client, "clara")

    client.force_login(felix)
    contract_page = unescaped(client.get(reverse("contract_detail", args=[contract.pk])))
    assert CLIENT_COMMENT in contract_page  # the parties still see it on the contract
    assert "Payments on this contract came to less than $1.00, so its feedback does not appear on public profiles." in (
        contract_page
    )


def test_feedback_on_a_contract_whose_payments_after_refunds_are_exactly_1_dollar_is_shown_and_scored(
    client, clara, felix
):
    contract = ended_contract(client=clara, freelancer=felix, paid_cents=100_00, refund_cents=99_00)
    both_leave_feedback(contract)

    assert (feedback_score(felix).hundredths, feedback_score(felix).contracts) == (483, 1)
    page = profile_page(client, "felix")
    assert CLIENT_COMMENT in page
    assert score_shown(page) == "4.83"
    assert "based on 1 contract." in page
    assert FREELANCER_COMMENT in profile_page(client, "clara")

    client.force_login(felix)
    contract_page = unescaped(client.get(reverse("contract_detail", args=[contract.pk])))
    assert "came to less than $1.00" not in contract_page


def test_the_1_dollar_rule_sums_every_payment_and_every_refund_of_the_contract(clara, felix):
    """Two $5.00 payments: refunds of $4.50 and $5.00 leave $0.50 (hidden); refunds
    of $4.50 and $4.50 leave exactly $1.00 (shown)."""
    below = FixedContractFactory(client=clara, freelancer=felix, title="Below")
    pay(below, 5_00, refund_cents=4_50)
    pay(below, 5_00, refund_cents=5_00)
    services.contract_end(contract=below, by=clara, reason="completed")
    at_one = FixedContractFactory(client=clara, freelancer=felix, title="At one dollar")
    pay(at_one, 5_00, refund_cents=4_50)
    pay(at_one, 5_00, refund_cents=4_50)
    services.contract_end(contract=at_one, by=clara, reason="completed")
    both_leave_feedback(below, comment="Below the line")
    both_leave_feedback(at_one, comment="On the line")

    assert [row.contract.title for row in scored_feedback(felix).select_related("contract")] == ["At one dollar"]
    assert scored_feedback(felix).get().weight == 1_00
    assert feedback_score(felix).contracts == 1


def test_a_contract_with_no_payment_at_all_does_not_count(client, clara, felix):
    contract = ended_contract(client=clara, freelancer=felix, paid_cents=0)
    both_leave_feedback(contract)

    assert feedback_score(felix).contracts == 0
    assert CLIENT_COMMENT not in profile_page(client, "felix")


# Weighting by contract value.


def test_the_score_is_the_average_of_overall_ratings_weighted_by_each_contracts_net_payments(client, clara, felix):
    """A: net $100, overall 5.00; B: $400 paid, $100 refunded = net $300, overall 3.00.
    (500 × 10000 + 300 × 30000) / 40000 = 350 → "3.50" (unweighted it would be 4.00)."""
    a = ended_contract(client=clara, freelancer=felix, paid_cents=100_00, title="Contract A")
    b = ended_contract(client=clara, freelancer=felix, paid_cents=400_00, refund_cents=100_00, title="Contract B")
    both_leave_feedback(a, client_scores=dict.fromkeys(CLIENT_SCORES, 5), comment="A was excellent")
    both_leave_feedback(b, client_scores=dict.fromkeys(CLIENT_SCORES, 3), comment="B was average")

    score = feedback_score(felix)

    assert (score.hundredths, score.contracts, score.display) == (350, 2, "3.50")
    page = profile_page(client, "felix")
    assert score_shown(page) == "3.50"
    assert "based on 2 contracts" in page
    assert "A was excellent" in page and "B was average" in page


def test_the_weighted_score_is_rounded_half_up_to_hundredths(clara, felix):
    """Two $100 contracts rated 4.83 and 1.00: (483 + 100) / 2 = 291.5 → 292."""
    a = ended_contract(client=clara, freelancer=felix, paid_cents=100_00)
    b = ended_contract(client=clara, freelancer=felix, paid_cents=100_00)
    both_leave_feedback(a)
    both_leave_feedback(b, client_scores=dict.fromkeys(CLIENT_SCORES, 1))

    assert (feedback_score(felix).hundredths, feedback_score(felix).display) == (292, "2.92")


def test_a_party_is_scored_only_on_the_feedback_they_received(clara, felix):
    contract = ended_contract(client=clara, freelancer=felix)
    both_leave_feedback(contract)

    assert feedback_score(felix).hundredths == 483  # the client's ratings of the freelancer
    assert feedback_score(clara).hundredths == 420  # the freelancer's ratings of the client


def test_hidden_feedback_does_not_count_until_revealed(clara, felix):
    contract = ended_contract(client=clara, freelancer=felix)
    client_feedback(contract)

    assert feedback_score(felix).contracts == 0
    freelancer_feedback(contract)
    assert feedback_score(felix).contracts == 1


# A mutual, no-fault end.


def test_a_mutual_end_shows_as_no_fault_for_both_and_leaves_the_score_unchanged_without_feedback(client, clara, felix):
    earlier = ended_contract(client=clara, freelancer=felix, paid_cents=200_00)
    both_leave_feedback(earlier)
    before = {user.username: feedback_score(user) for user in (clara, felix)}

    mutual = ended_contract(client=clara, freelancer=felix, paid_cents=500_00, mutual=True)

    assert mutual.end_kind == "mutual"
    for user in (clara, felix):
        assert feedback_score(user) == before[user.username]
        page = profile_page(client, user.username)
        assert re.search(r'id="no-fault">1 \(no fault\)<', page)
        assert re.search(r'id="contract-count">2<', page)
        assert "based on 1 contract." in page
    assert score_shown(profile_page(client, "felix")) == "4.83"
    assert score_shown(profile_page(client, "clara")) == "4.20"


def test_feedback_left_on_a_mutual_end_counts_like_any_other(client, clara, felix):
    earlier = ended_contract(client=clara, freelancer=felix, paid_cents=100_00)
    both_leave_feedback(earlier, client_scores=dict.fromkeys(CLIENT_SCORES, 5))
    mutual = ended_contract(client=clara, freelancer=felix, paid_cents=100_00, mutual=True)

    both_leave_feedback(mutual, client_scores=dict.fromkeys(CLIENT_SCORES, 2), comment="Parted ways amicably")

    assert (feedback_score(felix).hundredths, feedback_score(felix).contracts) == (350, 2)
    page = profile_page(client, "felix")
    assert score_shown(page) == "3.50"
    assert "Parted ways amicably" in page
    assert re.search(r'id="no-fault">1 \(no fault\)<', page)


def test_an_end_by_one_party_is_not_counted_as_no_fault(client, clara, felix):
    ended_contract(client=clara, freelancer=felix)

    assert re.search(r'id="no-fault">0 \(no fault\)<', profile_page(client, "felix"))


# The profile page.


def test_the_profile_shows_revealed_public_feedback_with_the_recipients_response(client, clara, felix):
    contract = ended_contract(client=clara, freelancer=felix, title="Parser rewrite")
    both_leave_feedback(contract)
    mine = contract.feedback.get(author=clara)
    services.feedback_respond(feedback=mine, by=felix, text="Thank you, Clara!")

    page = profile_page(client, "felix")

    assert f"“{CLIENT_COMMENT}”" in page
    assert "Response: “Thank you, Clara!”" in page
    assert "“Parser rewrite” · from Clara Client (client)" in page
    assert "<strong>4.83</strong> / 5" in page


def test_an_unknown_or_inactive_person_has_no_profile(client, felix):
    felix.is_active = False
    felix.save()

    assert client.get(reverse("profile", args=["nobody"])).status_code == 404
    assert client.get(reverse("profile", args=["felix"])).status_code == 404


def _rated_contracts(felix, count: int, start: int):
    for index in range(start, start + count):
        contract = ended_contract(client=person(f"client{index}"), freelancer=felix, paid_cents=50_00 + index * 100)
        both_leave_feedback(contract, comment=f"Comment number {index}")
        if index % 2:
            services.feedback_respond(feedback=contract.feedback.get(author=contract.client), by=felix, text="Thanks")


def test_the_profile_takes_the_same_number_of_queries_for_2_and_for_20_feedback(
    client, felix, django_assert_num_queries
):
    _rated_contracts(felix, 2, start=0)
    with CaptureQueriesContext(connection) as with_two:
        page = profile_page(client, "felix")
    assert "based on 2 contracts" in page

    _rated_contracts(felix, 18, start=2)

    with django_assert_num_queries(len(with_two.captured_queries)):
        page = profile_page(client, "felix")
    assert "based on 20 contracts" in page
    assert page.count("Comment number") == 20
    assert page.count("Response: “Thanks”") == 10


# The End-contract dialog.


def end_dialog(client, contract, user) -> str:
    client.force_login(user)
    response = client.get(reverse("contract_end", args=[contract.pk]))
    assert response.status_code == 200
    return unescaped(response)


def test_the_end_dialog_tells_a_freelancer_how_many_contracts_their_score_rests_on(client, clara, felix):
    for _ in range(2):
        both_leave_feedback(ended_contract(client=clara, freelancer=felix))
    # Neither hidden feedback nor feedback on a contract below $1 counts.
    client_feedback(ended_contract(client=clara, freelancer=felix))
    both_leave_feedback(ended_contract(client=clara, freelancer=felix, paid_cents=5_00, refund_cents=4_01))
    active = FixedContractFactory(client=clara, freelancer=felix)

    assert "Your feedback score currently rests on 2 contracts." in end_dialog(client, active, felix)
    assert "Your feedback score currently rests on" not in end_dialog(client, active, clara)


def test_the_end_dialog_says_1_contract_and_0_contracts(client, clara, felix):
    active = FixedContractFactory(client=clara, freelancer=felix)
    assert "Your feedback score currently rests on 0 contracts." in end_dialog(client, active, felix)

    both_leave_feedback(ended_contract(client=clara, freelancer=felix))

    assert "Your feedback score currently rests on 1 contract." in end_dialog(client, active, felix)


def test_the_htmx_end_dialog_tells_the_freelancer_too(client, clara, felix):
    both_leave_feedback(ended_contract(client=clara, freelancer=felix))
    active = FixedContractFactory(client=clara, freelancer=felix)
    client.force_login(felix)

    response = client.get(reverse("contract_end", args=[active.pk]), headers={"HX-Request": "true"})

    assert "<dialog" in unescaped(response)
    assert "Your feedback score currently rests on 1 contract." in unescaped(response)
