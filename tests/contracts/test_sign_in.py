"""Signing in (django-allauth's sign-in, by username or e-mail address): a suspended
("permanently closed") account cannot sign in and is told the rule it broke, but only
to someone who knows its password."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from contracts import services
from contracts.forms.accounts import SignInForm
from contracts.models import AccountSuspension
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.pages import is_signed_in, post_sign_in

GENERIC_ERROR = "Please enter a correct username or e-mail address and password."
RULE = "Payment outside the platform"
EXPLANATION = "You asked a client to pay you by bank transfer to avoid the service fee."


def suspend(user, *, by=None):
    return AccountSuspension.objects.create(
        user=user,
        rule=RULE,
        explanation=EXPLANATION,
        created_at=datetime(2026, 11, 2, 15, 45, tzinfo=UTC),
        created_by=by,
    )


@pytest.mark.django_db
def test_sign_in_with_the_right_password_signs_in_and_goes_home(client):
    UserFactory(username="felix")

    response = post_sign_in(client, "felix")

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert is_signed_in(client)


@pytest.mark.django_db
def test_sign_in_goes_to_the_next_page_on_this_site(client):
    UserFactory(username="felix")

    response = post_sign_in(client, "felix", next=reverse("notifications"))

    assert response.url == reverse("notifications")


@pytest.mark.django_db
def test_sign_in_never_redirects_to_another_site(client):
    UserFactory(username="felix")

    response = post_sign_in(client, "felix", next="https://evil.example.com/")

    assert response.url == reverse("home")


@pytest.mark.django_db
def test_signed_in_user_opening_the_sign_in_page_is_sent_on(client):
    client.force_login(UserFactory(username="felix"))

    response = client.get(reverse("login"))

    assert response.status_code == 302
    assert response.url == reverse("home")


@pytest.mark.django_db
def test_wrong_password_shows_the_generic_error(client):
    UserFactory(username="felix")

    response = post_sign_in(client, "felix", "wrong-password")

    assert response.status_code == 200
    assert GENERIC_ERROR in response.content.decode()
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_suspended_user_with_the_right_password_is_told_the_rule_and_explanation(client):
    suspend(UserFactory(username="felix"))

    response = post_sign_in(client, "felix")

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "This account was permanently closed on 2026-11-02: Payment outside the platform. "
        "You asked a client to pay you by bank transfer to avoid the service fee."
    ) in html
    assert GENERIC_ERROR not in html
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_suspended_user_with_a_wrong_password_sees_only_the_generic_error(client):
    suspend(UserFactory(username="felix"))

    response = post_sign_in(client, "felix", "wrong-password")

    html = response.content.decode()
    assert GENERIC_ERROR in html
    for secret in ("closed", RULE, EXPLANATION, "inactive", "2026-11-02"):
        assert secret not in html
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_inactive_user_without_suspension_with_the_right_password_is_told_it_is_inactive(client):
    UserFactory(username="felix", is_active=False)

    response = post_sign_in(client, "felix")

    html = response.content.decode()
    assert "This account is inactive." in html
    assert "permanently closed" not in html
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_inactive_user_with_a_wrong_password_sees_only_the_generic_error(client):
    UserFactory(username="felix", is_active=False)

    response = post_sign_in(client, "felix", "wrong-password")

    html = response.content.decode()
    assert GENERIC_ERROR in html
    assert "inactive" not in html


@pytest.mark.django_db
def test_unknown_username_sees_the_generic_error(client):
    response = post_sign_in(client, "nobody")

    assert GENERIC_ERROR in response.content.decode()


@pytest.mark.django_db
def test_suspending_an_account_makes_it_inactive(admin_user):
    user = UserFactory(username="felix")

    services.account_suspend(user=user, by=admin_user, rule=RULE, explanation=EXPLANATION)

    user.refresh_from_db()
    assert user.is_active is False


@pytest.mark.django_db
def test_suspended_account_reactivated_by_hand_still_cannot_sign_in(client):
    user = UserFactory(username="felix")
    suspend(user)
    type(user).objects.filter(pk=user.pk).update(is_active=True)

    response = post_sign_in(client, "felix")

    assert "This account was permanently closed on 2026-11-02" in response.content.decode()
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_suspension_ends_an_open_session(client, admin_user):
    user = UserFactory(username="felix")
    client.force_login(user)

    services.account_suspend(user=user, by=admin_user, rule=RULE, explanation=EXPLANATION)

    response = client.get(reverse("notifications"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_sign_in_form_error_code_names_the_suspension(rf):
    suspend(UserFactory(username="felix"))

    form = SignInForm(data={"login": "felix", "password": PASSWORD}, request=rf.post(reverse("login")))

    assert not form.is_valid()
    assert form.non_field_errors().as_data()[0].code == "suspended"


@pytest.mark.django_db
def test_sign_out_signs_out_and_goes_home(client):
    client.force_login(UserFactory(username="felix"))

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_admin_suspension_records_who_suspended_and_is_read_only_afterwards(admin_client, admin_user):
    user = UserFactory(username="felix")

    response = admin_client.post(
        reverse("admin:contracts_accountsuspension_add"),
        {"user": user.pk, "rule": RULE, "explanation": EXPLANATION},
    )

    assert response.status_code == 302
    suspension = AccountSuspension.objects.get(user=user)
    assert suspension.created_by == admin_user
    user.refresh_from_db()
    assert user.is_active is False
    change = admin_client.post(
        reverse("admin:contracts_accountsuspension_change", args=[suspension.pk]),
        {"user": user.pk, "rule": "Changed", "explanation": "Changed"},
    )
    assert change.status_code == 403
    suspension.refresh_from_db()
    assert suspension.rule == RULE
