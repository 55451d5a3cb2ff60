"""``manage.py runportal`` (``make run``) starts web, one worker and one beat with the
right command lines for each broker; no process is started here."""

import sys
from pathlib import Path

from contracts.management.commands.runportal import child_commands

PROJECT = Path("/srv/portal")
PY = "/venv/bin/python"


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
