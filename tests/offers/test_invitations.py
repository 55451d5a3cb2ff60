"""An offer to an e-mail address without an account invites its owner: an e-mail with
a link to sign up with that address, which leads to the offer. The offer becomes the
new account's once the address is verified: through the link (it proves the
address), or by the verification link allauth e-mails after a sign-up without it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from contracts.models import Notification, OutgoingEmail
from offers import services
from offers.models import Offer, OfferState
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.offers import fixed_offer
from tests.fixtures.pages import browser_for, text
from tests.fixtures.people import verified

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
INVITED = "nora@example.org"
STRONG = "gentle-orchid-harbour-42"


@pytest.fixture(autouse=True)
def at_t0():
    with time_machine.travel(T0, tick=True):
        yield


@pytest.fixture
def invitation(clara) -> Offer:
    return fixed_offer(clara, "Nora@Example.org")


def link(offer: Offer) -> str:
    return reverse("offer_invitation", args=[offer.invitation_token])


def test_an_address_without_an_account_is_emailed_an_invitation_that_leads_to_the_offer(invitation):
    assert (invitation.freelancer, invitation.invited_email, invitation.state) == (None, INVITED, OfferState.SENT)
    email = OutgoingEmail.objects.get(to=INVITED)
    assert email.subject == "Clara Client invites you to an offer: “Brand identity”"
    assert f"http://testserver{link(invitation)}" in email.body_text or link(invitation) in email.body_text
    assert "Sign up with nora@example.org" in email.body_text
    assert not Notification.objects.filter(message__contains="sent you an offer").exists()


def test_an_address_an_account_has_not_verified_is_invited_too(clara):
    UserFactory(username="squatter", email=INVITED)  # signed up with it, never verified it

    offer = fixed_offer(clara, INVITED)

    assert (offer.freelancer, offer.invited_email) == (None, INVITED)


def test_the_invitation_link_signs_up_with_the_address_already_verified_and_opens_the_offer(invitation):
    browser = Client()

    page = browser.get(link(invitation))
    signup = browser.post(
        f"{reverse('account_signup')}?next={link(invitation)}",
        {"username": "nora", "email": INVITED, "password1": STRONG, "password2": STRONG},
        follow=True,
    )

    assert page.status_code == 200
    assert "Sign up with nora@example.org" in text(page)
    nora = get_user_model().objects.get(username="nora")
    assert EmailAddress.objects.get(user=nora).verified
    invitation.refresh_from_db()
    assert (invitation.freelancer, invitation.state) == (nora, OfferState.SENT)
    assert signup.redirect_chain[-1][0] == reverse("offer_detail", args=[invitation.pk])
    assert "What these terms mean at the end" in text(signup)
    told = Notification.objects.get(user=nora)
    assert told.message.startswith("Clara Client sent you an offer, “Brand identity”")
    assert Notification.objects.get(user=invitation.client, message__contains="joined the portal").message == (
        "nora joined the portal and can now answer your offer “Brand identity”."
    )


def test_verifying_the_invited_address_after_signing_up_without_the_link_makes_the_offer_yours(invitation):
    nora = UserFactory(username="nora", email=INVITED)
    address = EmailAddress.objects.create(user=nora, email=INVITED, verified=False, primary=True)
    assert Offer.objects.get(pk=invitation.pk).freelancer is None

    Client().post(reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key]))

    assert Offer.objects.get(pk=invitation.pk).freelancer == nora
    services.offer_accept(offer=invitation, by=nora)
    assert Offer.objects.get(pk=invitation.pk).state == OfferState.ACCEPTED


def test_signed_in_with_the_verified_address_the_link_opens_the_offer(invitation):
    nora = verified(UserFactory(username="nora", email=INVITED))

    response = browser_for(nora).get(link(invitation))

    assert response.status_code == 302 and response["Location"] == reverse("offer_detail", args=[invitation.pk])
    assert Offer.objects.get(pk=invitation.pk).freelancer == nora


def test_someone_signed_in_with_another_address_cannot_take_the_invitation(invitation, felix):
    response = browser_for(verified(felix)).get(link(invitation))

    assert response.status_code == 200
    assert "This invitation is for the person with the e-mail address it was sent to" in text(response)
    assert Offer.objects.get(pk=invitation.pk).freelancer is None


def test_an_unverified_account_with_the_address_cannot_take_the_invitation_until_it_verifies_it(invitation):
    nora = UserFactory(username="nora", email=INVITED)

    response = browser_for(nora).get(link(invitation))

    assert response.status_code == 200 and Offer.objects.get(pk=invitation.pk).freelancer is None


def test_an_expired_or_withdrawn_invitation_says_so_and_signs_nobody_up(invitation, clara):
    with time_machine.travel(invitation.expires_at + timedelta(minutes=1), tick=False):
        expired = Client().get(link(invitation))
    services.offer_withdraw(offer=invitation, by=clara)
    withdrawn = Client().get(link(invitation))

    assert "This offer expired on 2026-06-08 09:00 UTC without an answer." in text(expired)
    assert "The client withdrew this offer." in text(withdrawn)
    assert "Sign up with" not in text(withdrawn)
    assert Client().get(reverse("offer_invitation", args=["not-a-token"])).status_code == 404


def test_the_client_opening_their_own_invitation_link_is_sent_to_the_offer(invitation, clara):
    response = browser_for(clara).get(link(invitation))

    assert response["Location"] == reverse("offer_detail", args=[invitation.pk])


def test_signing_in_with_a_password_keeps_the_invitation_for_the_right_person_only(invitation):
    UserFactory(username="nora", email=INVITED)
    browser = Client()
    browser.get(link(invitation))

    browser.post(reverse("login"), {"login": "nora", "password": PASSWORD})
    response = browser.get(link(invitation))

    # Nora has not verified her address yet: signing in with a password proves nothing about it.
    assert response.status_code == 200
    assert Offer.objects.get(pk=invitation.pk).freelancer is None
