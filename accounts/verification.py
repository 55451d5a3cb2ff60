"""Whether a person's e-mail address is verified (django-allauth's ``EmailAddress``):
an unverified account may sign in and look around, but not send offers."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model


def email_is_verified(user) -> bool:
    if not (user and user.is_authenticated and user.email):
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def mark_email_verified(user) -> EmailAddress:
    """Record the user's address as verified and primary (demo data, tests, an admin's
    confirmation); people verify theirs through the link e-mailed at sign-up."""
    address, _ = EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return address


def account_with_email(address: str):
    """The account an e-mail address belongs to (verified first), or None."""
    if not address:
        return None
    found = EmailAddress.objects.filter(email__iexact=address).select_related("user").order_by("-verified").first()
    if found is not None:
        return found.user
    return get_user_model()._default_manager.filter(email__iexact=address).first()
