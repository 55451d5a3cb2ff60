from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
# make run loads the demo accounts and the home page lists them (PORTAL_DEMO_MODE=0 turns it off).
PORTAL_DEMO_MODE = env_bool("PORTAL_DEMO_MODE", True)
