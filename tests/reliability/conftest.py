import pytest


@pytest.fixture
def axes_on(settings):
    """Sign-in throttling (django-axes) switched on, as in production."""
    settings.AXES_ENABLED = True
    return settings
