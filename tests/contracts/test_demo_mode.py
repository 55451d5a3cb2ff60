"""Demo mode (issue 12, defect 7): the demo accounts, which share a published password,
are loaded and listed only where the settings say demo mode (PORTAL_DEMO_MODE): on in
the local settings of ``make run``, off in production and in the tests by default."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from contracts.demo import DEMO_PASSWORD, DEMO_USERS
from contracts.models import Contract
from tests.factories import UserFactory
from tests.reliability.fuzz_world import changed_tables, fingerprint

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _setting_in(settings_module: str, **env_overrides: str) -> str:
    """PORTAL_DEMO_MODE as a fresh process loads it from ``settings_module``, with no
    PORTAL_DEMO_MODE in the environment unless given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.pop("PORTAL_DEMO_MODE", None)
    env.update({"DJANGO_SETTINGS_MODULE": settings_module, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})
    env.update(env_overrides)
    code = "import django; django.setup(); from django.conf import settings as s; print(s.PORTAL_DEMO_MODE)"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_have_demo_mode_off():
    assert _setting_in("contracts_portal.settings.production") == "False"


def test_production_demo_mode_is_on_only_when_the_environment_opts_in_for_a_trial():
    assert _setting_in("contracts_portal.settings.production", PORTAL_DEMO_MODE="1") == "True"


def test_local_settings_of_make_run_have_demo_mode_on():
    assert _setting_in("contracts_portal.settings.local") == "True"


def test_test_settings_have_demo_mode_off_whatever_the_environment_says():
    assert _setting_in("contracts_portal.settings.test", PORTAL_DEMO_MODE="1") == "False"


# seed_demo.


@pytest.mark.django_db
def test_seed_demo_refuses_outside_demo_mode_naming_the_setting_and_writes_no_rows(settings):
    settings.PORTAL_DEMO_MODE = False
    users_before = get_user_model().objects.count()
    before = fingerprint()

    with pytest.raises(CommandError) as refused:
        call_command("seed_demo")

    message = str(refused.value)
    assert "PORTAL_DEMO_MODE" in message
    assert "No demo data loaded" in message and "never on a real deployment" in message
    assert changed_tables(before, fingerprint()) == []
    assert get_user_model().objects.count() == users_before
    assert not get_user_model().objects.filter(username__in=[demo["username"] for demo in DEMO_USERS]).exists()


def test_seed_demo_under_production_settings_exits_with_the_message_before_touching_the_database(tmp_path):
    database = tmp_path / "never-created.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.pop("PORTAL_DEMO_MODE", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "contracts_portal.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": f"sqlite:///{database}",
        }
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", "seed_demo"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "No demo data loaded: demo mode is off in contracts_portal.settings.production" in result.stderr
    assert "PORTAL_DEMO_MODE=1" in result.stderr
    assert not database.exists()  # no connection was even opened


@pytest.mark.django_db
def test_seed_demo_in_demo_mode_loads_the_demo_accounts_and_contracts(settings):
    settings.PORTAL_DEMO_MODE = True

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    demo_user = get_user_model().objects.get(username="clara")
    assert demo_user.check_password(DEMO_PASSWORD)
    assert Contract.objects.filter(client=demo_user).exists()


# The home page.


@pytest.mark.django_db
def test_home_page_outside_demo_mode_shows_no_demo_accounts_nor_their_password(settings):
    settings.PORTAL_DEMO_MODE = False

    response = Client().get(reverse("home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert DEMO_PASSWORD not in html
    assert "Demo accounts" not in html and "demo-logins" not in html
    for demo in DEMO_USERS:
        assert demo["name"] not in html
    assert f'href="{reverse("login")}"' in html  # signing in is still one click away


@pytest.mark.django_db
def test_home_page_outside_demo_mode_shows_no_demo_accounts_to_a_signed_in_user_either(settings):
    settings.PORTAL_DEMO_MODE = False
    browser = Client()
    browser.force_login(UserFactory())

    html = browser.get(reverse("home")).content.decode()

    assert DEMO_PASSWORD not in html and "Demo accounts" not in html
    assert f'href="{reverse("my_jobs")}"' in html


@pytest.mark.django_db
def test_home_page_in_demo_mode_lists_the_demo_accounts_and_their_password(settings):
    settings.PORTAL_DEMO_MODE = True

    html = Client().get(reverse("home")).content.decode()

    assert "Demo accounts" in html
    assert f'<code id="demo-password">{DEMO_PASSWORD}</code>' in html
    for demo in DEMO_USERS:
        assert f"<code>{demo['username']}</code>" in html
