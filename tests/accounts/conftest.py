import pytest
from django.core.cache import cache

from contracts_portal.settings import base


@pytest.fixture
def account_limits_on(settings):
    """The throttling of the account forms (allauth's rate limits) as in production,
    counted from zero."""
    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def axes_on(settings):
    """Sign-in throttling (django-axes) switched on, as in production."""
    settings.AXES_ENABLED = True
    return settings
