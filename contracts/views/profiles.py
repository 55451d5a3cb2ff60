from django.http import Http404
from django.shortcuts import render

from ..reputation import public_profile


def profile(request, username: str):
    """A person's public profile: the name they go by and their headline, the
    value-weighted feedback score, contracts, and the revealed public feedback they
    received, with their responses."""
    # No username holds a NUL character, and PostgreSQL cannot even compare one.
    found = None if "\x00" in username else public_profile(username)
    if found is None:
        raise Http404("No such person.")
    return render(request, "contracts/profile.html", {"profile": found})
