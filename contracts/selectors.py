from django.db.models import Count, Q

from .models import Contract, ContractState


def contracts_for(user):
    """The user's contracts as client or freelancer, newest first."""
    return (
        Contract.objects.filter(Q(client=user) | Q(freelancer=user))
        .select_related("client", "freelancer")
        .order_by("-started_at", "-id")
    )


def demo_overview() -> dict[str, int]:
    return Contract.objects.aggregate(
        total=Count("id"),
        open=Count("id", filter=~Q(state=ContractState.ENDED)),
        ended=Count("id", filter=Q(state=ContractState.ENDED)),
    )
