"""In-app notifications: a plain sentence telling one person that something happened
on a contract. Which sentence, to whom and when is declared with each transition
(``contracts.effects``) or said by the service that writes a row outside a
transition (``contracts.services.effects``); this module only writes them."""

from accounts.profiles import display_name

from .models import Notification

__all__ = ["display_name", "notify", "quoted"]


def quoted(title: str) -> str:
    return f"“{title}”"


def notify(users, *, contract_id: int | None, kind: str, message: str, at=None, link: str = "") -> None:
    """One notification per user, written in the caller's transaction."""
    extra = {"created_at": at} if at is not None else {}
    Notification.objects.bulk_create(
        Notification(user=user, contract_id=contract_id, kind=kind, message=message, link=link, **extra)
        for user in users
    )
