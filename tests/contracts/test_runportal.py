"""``manage.py runportal`` (``make run``) starts web, one worker and one beat with the
right command lines for each broker; no process is started here."""

import io
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

from contracts.management.commands import runportal
from contracts.management.commands.runportal import child_commands, child_environment, portal_base_url

PROJECT = Path("/srv/portal")
PY = "/venv/bin/python"
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _commands(**kwargs):
    return dict(child_commands(project_dir=PROJECT, python=PY, **kwargs))


def test_sqlite_broker_runs_worker_with_solo_pool():
    commands = child_commands(host="127.0.0.1", port=8055, redis_url="", project_dir=PROJECT, python=PY)
    assert [name for name, _argv in commands] == ["web", "worker", "beat"]
    argv = dict(commands)
    assert argv["web"] == [PY, str(PROJECT / "manage.py"), "runserver", "127.0.0.1:8055"]
    assert argv["worker"] == [PY, "-m", "celery", "-A", "contracts_portal", "worker", "--loglevel=INFO", "--pool=solo"]
    assert argv["beat"] == [
        PY,
        "-m",
        "celery",
        "-A",
        "contracts_portal",
        "beat",
        "--loglevel=INFO",
        "--schedule",
        str(PROJECT / "celerybeat-schedule"),
    ]


def test_redis_broker_runs_worker_with_prefork_pool_of_two():
    argv = _commands(redis_url="redis://127.0.0.1:6379/14")
    assert argv["worker"] == [
        PY,
        "-m",
        "celery",
        "-A",
        "contracts_portal",
        "worker",
        "--loglevel=INFO",
        "--concurrency=2",
    ]
    assert not any(arg.startswith("--pool") for arg in argv["worker"])
    assert argv["web"][-1] == "127.0.0.1:8000"
    assert argv["beat"][-2:] == ["--schedule", str(PROJECT / "celerybeat-schedule")]


def test_exactly_one_beat_and_defaults_from_settings(settings):
    commands = child_commands()
    assert [name for name, _argv in commands].count("beat") == 1
    argv = dict(commands)
    assert argv["web"] == [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "runserver", "127.0.0.1:8000"]
    assert argv["beat"][-1] == str(Path(settings.BASE_DIR) / "celerybeat-schedule")


def test_ipv6_host_is_bracketed():
    assert _commands(host="::1", port=9000)["web"][-1] == "[::1]:9000"


# E-mail links follow the address the portal is served on.


def test_children_link_e_mails_to_the_host_and_port_the_portal_runs_on():
    env = child_environment(host="127.0.0.1", port=8123, environ={"PATH": "/usr/bin"})

    assert env["PORTAL_BASE_URL"] == "http://127.0.0.1:8123"
    assert env["PATH"] == "/usr/bin" and env["PYTHONUNBUFFERED"] == "1"


def test_an_explicit_portal_base_url_wins_over_the_port():
    env = child_environment(host="127.0.0.1", port=8123, environ={"PORTAL_BASE_URL": "https://portal.example.com"})

    assert env["PORTAL_BASE_URL"] == "https://portal.example.com"


def test_a_blank_portal_base_url_counts_as_unset():
    assert child_environment(host="localhost", port=9000, environ={"PORTAL_BASE_URL": " "})["PORTAL_BASE_URL"] == (
        "http://localhost:9000"
    )


def test_wildcard_hosts_link_to_the_loopback_address_and_ipv6_is_bracketed():
    assert portal_base_url(host="0.0.0.0", port=8123) == "http://127.0.0.1:8123"
    assert portal_base_url(host="::", port=8123) == "http://[::1]:8123"
    assert portal_base_url(host="::1", port=8123) == "http://[::1]:8123"
    assert portal_base_url(host="portal.lan", port=80) == "http://portal.lan:80"


def test_runportal_starts_web_worker_and_beat_with_the_base_url_of_its_port(monkeypatch):
    """``make run PORT=8123`` → ``runportal --port 8123``: every child, the web server
    and the worker included, gets PORTAL_BASE_URL for port 8123 (no process starts)."""
    started = {}
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    monkeypatch.setattr(runportal.signal, "signal", lambda *args: None)
    monkeypatch.setattr(runportal.Command, "_start", lambda self, name, argv, env: started.update({name: (argv, env)}))
    monkeypatch.setattr(runportal.Command, "_supervise", lambda self: 0)
    out = io.StringIO()

    call_command("runportal", "--host", "127.0.0.1", "--port", "8123", stdout=out)

    assert set(started) == {"web", "worker", "beat"}
    assert started["web"][0][-1] == "127.0.0.1:8123"
    for name in ("web", "worker"):
        assert started[name][1]["PORTAL_BASE_URL"] == "http://127.0.0.1:8123", name
    assert "E-mail links: http://127.0.0.1:8123" in out.getvalue()


def test_a_process_started_with_that_environment_writes_links_to_that_port():
    """The settings the web server and the worker load read PORTAL_BASE_URL from it."""
    env = child_environment(
        host="127.0.0.1",
        port=8123,
        environ={**os.environ, "DJANGO_SETTINGS_MODULE": "contracts_portal.settings.local", "PORTAL_BASE_URL": ""},
    )
    code = "import django; django.setup(); from django.conf import settings; print(settings.PORTAL_BASE_URL)"

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.strip() == "http://127.0.0.1:8123"
