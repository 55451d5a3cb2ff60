from django.db.models import Q
from django.http import Http404

from ..models import Contract


def party_contracts(user):
    """Contracts the user is a party to; any other id is a 404, never a 403, so ids
    of other people's contracts reveal nothing."""
    return Contract.objects.filter(Q(client=user) | Q(freelancer=user))


def party_contract_or_404(user, contract_id: int, queryset=None) -> Contract:
    queryset = party_contracts(user) if queryset is None else queryset.filter(Q(client=user) | Q(freelancer=user))
    contract = queryset.select_related("client", "freelancer").filter(pk=contract_id).first()
    if contract is None:
        raise Http404("No such contract.")
    return contract
