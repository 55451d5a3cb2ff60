"""The circumvention detectors read an offer's description when it is sent and a
freelancer's reason for declining, like any other text written on the platform: one
flag per event, rule and person, with the evidence that leads to the offer."""

import pytest

from contracts.models import Flag, FlagRule
from offers import services
from tests.fixtures.offers import fixed_offer

pytestmark = pytest.mark.django_db


def test_payment_outside_the_platform_in_an_offer_description_raises_a_flag_about_the_client(clara, felix):
    offer = fixed_offer(clara, felix, description="Half now, and pay me the rest via PayPal to save the fees.")

    flag = Flag.objects.get()
    assert (flag.rule, flag.subject, flag.contract) == (FlagRule.OFF_PLATFORM_CONTACT, clara, None)
    assert flag.explanation == "The description of an offer on “Brand identity” contains payment service: “PayPal”."
    assert flag.evidence["offer_id"] == offer.pk
    assert flag.evidence["offer_url"] == f"/offers/{offer.pk}/"
    assert flag.evidence["text"] == offer.description


def test_contact_details_in_a_reason_for_declining_raise_a_flag_about_the_freelancer(clara, felix):
    offer = fixed_offer(clara, felix)

    services.offer_decline(offer=offer, by=felix, reason="Too low here. Write to felix.work@example.net instead.")

    flag = Flag.objects.get()
    assert (flag.subject, flag.evidence["source"]) == (felix, "A reason for declining an offer")
    assert [match["kind"] for match in flag.evidence["matches"]] == ["e-mail address"]


def test_an_ordinary_offer_and_an_ordinary_reason_raise_nothing(clara, felix):
    offer = fixed_offer(clara, felix, description="Three logo drafts by June 12, then 2 rounds of changes (v1.2).")

    services.offer_decline(offer=offer, by=felix, reason="I am booked until September, sorry.")

    assert not Flag.objects.exists()


def test_the_flag_of_an_accepted_offer_stays_with_the_offer_and_its_text_is_not_read_again(clara, felix):
    offer = fixed_offer(clara, felix, description="Message me on WhatsApp for the brief.")

    services.offer_accept(offer=offer, by=felix)

    assert Flag.objects.count() == 1
