"""Whether a person's e-mail address is verified (django-allauth's ``EmailAddress``):
an unverified account may sign in and look around, but not send offers."""

from allauth.account.models import EmailAddress


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
