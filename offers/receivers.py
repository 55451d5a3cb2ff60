"""django-allauth's signals, for what allauth needs from the offers: an address an
offer was sent to before it had an account is now verified (at sign-up through the
invitation link, or by the link allauth e-mails), so the offers waiting for it become
that account's. Each receiver only calls the service, which does the rest."""

from .services import offers_claim_invited


def address_verified(sender, request, email_address, **kwargs) -> None:
    offers_claim_invited(user=email_address.user)


def signed_up(sender, request, user, **kwargs) -> None:
    offers_claim_invited(user=user)
