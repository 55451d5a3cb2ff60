"""Run the whole portal from one terminal: web server, one Celery worker and one Celery beat.

Why: ``make run`` is the one command a new user types, on a machine with no Docker and
no server installed. The portal needs three processes (Django's development server,
a worker that runs the tasks, and exactly one beat that schedules the sweeps), and
asking a newcomer to open three terminals, or to find out that tasks never run because
no worker was started, defeats the point. This command starts the three as child
processes, prefixes each line they print with its name (``web | ``, ``worker | ``,
``beat | ``), and stops all of them on one Ctrl-C.

- Broker: with ``REDIS_URL`` set the worker uses Redis with the prefork pool
  (``--concurrency=2``); without it, Celery uses the SQLAlchemy transport on a SQLite
  file, where the worker runs with ``--pool=solo`` (prefork hangs on shutdown there).
- Every child runs in its own session/process group (``start_new_session=True``), so the
  terminal's Ctrl-C reaches only this supervisor, which then stops the children in
  order (beat, worker, web) with SIGTERM, waits up to 10 seconds, and kills (SIGKILL,
  whole process group) whatever is left. A second Ctrl-C kills at once.
- If a child exits on its own, the others are stopped and this command exits with that
  child's exit code.
- E-mail links: unless ``PORTAL_BASE_URL`` is set, the children get
  ``PORTAL_BASE_URL=http://HOST:PORT`` of this run (``make run PORT=8123`` links to port
  8123), so the web and the worker write links to the address the portal is served on.
  A wildcard host (0.0.0.0, ::) is not an address people can open: links then use
  127.0.0.1 (or ::1), and other machines need ``PORTAL_BASE_URL`` set to the name they use.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess  # nosec B404
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.2
# Stopping order: nothing new is scheduled while the worker finishes, and the web
# server (which may still enqueue tasks) goes last.
STOP_ORDER = ("beat", "worker", "web")
# Not addresses a browser opens: e-mail links use the loopback address instead.
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104  # nosec B104


def portal_base_url(*, host: str, port: int | str) -> str:
    """The address people open for a portal served on ``host:port``."""
    host = WILDCARD_HOSTS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def child_environment(*, host: str, port: int | str, environ=None) -> dict[str, str]:
    """The environment of every child: this one's, unbuffered output, and the portal's
    address for e-mail links unless ``PORTAL_BASE_URL`` is set explicitly."""
    env = {**(os.environ if environ is None else environ), "PYTHONUNBUFFERED": "1"}
    if not env.get("PORTAL_BASE_URL", "").strip():
        env["PORTAL_BASE_URL"] = portal_base_url(host=host, port=port)
    return env


def child_commands(
    *,
    host: str = "127.0.0.1",
    port: int | str = 8000,
    redis_url: str = "",
    project_dir: Path | str | None = None,
    python: str | None = None,
) -> list[tuple[str, list[str]]]:
    """The (name, argv) of every child process, in starting order: web, worker, beat."""
    project = Path(project_dir if project_dir is not None else settings.BASE_DIR)
    python = python or sys.executable
    address = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    celery = [python, "-m", "celery", "-A", "contracts_portal"]
    # Redis: the default prefork pool. SQLAlchemy/SQLite broker: solo (prefork hangs on shutdown).
    pool = ["--concurrency=2"] if redis_url else ["--pool=solo"]
    return [
        ("web", [python, str(project / "manage.py"), "runserver", address]),
        ("worker", [*celery, "worker", "--loglevel=INFO", *pool]),
        ("beat", [*celery, "beat", "--loglevel=INFO", "--schedule", str(project / "celerybeat-schedule")]),
    ]


class Command(BaseCommand):
    help = "Run the portal: Django's development server, one Celery worker and one Celery beat (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address of the web server (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port of the web server (default 8000)")

    def handle(self, *args, **options):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._force = threading.Event()
        self._children: dict[str, subprocess.Popen] = {}
        self._readers: list[threading.Thread] = []
        commands = child_commands(
            host=options["host"],
            port=options["port"],
            redis_url=getattr(settings, "REDIS_URL", ""),
            project_dir=settings.BASE_DIR,
        )
        env = child_environment(host=options["host"], port=options["port"])
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

        broker = "Redis (REDIS_URL)" if getattr(settings, "REDIS_URL", "") else "SQLite file (SQLAlchemy transport)"
        self._say(f"Starting web, worker and beat; Celery broker: {broker}. Ctrl-C stops all three.")
        self._say(f"E-mail links: {env['PORTAL_BASE_URL']}")
        try:
            for name, argv in commands:
                self._start(name, argv, env)
            exit_code = self._supervise()
        finally:
            self._stop_all()
        if exit_code:
            sys.exit(exit_code)

    # Children ------------------------------------------------------------------------

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        # A fixed argv built by child_commands, never from user input.
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            argv,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        self._children[name] = process
        reader = threading.Thread(
            target=self._relay, args=(name, process.stdout), name=f"runportal-{name}", daemon=True
        )
        reader.start()
        self._readers.append(reader)

    def _relay(self, name: str, stream) -> None:
        """Print every line of one child's output (stdout and stderr) with its name."""
        prefix = f"{name} | "
        for line in iter(stream.readline, ""):
            self._say(prefix + line.rstrip("\n"))
        stream.close()

    def _say(self, text: str) -> None:
        with self._lock:
            self.stdout.write(text)
            self.stdout.flush()

    def _on_signal(self, signum, frame) -> None:
        if self._stop.is_set():
            self._force.set()  # a second Ctrl-C: kill now
        self._stop.set()

    def _supervise(self) -> int:
        """Wait for a stop signal (exit 0) or for a child to exit on its own (its code)."""
        while not self._stop.wait(POLL_INTERVAL):
            for name, process in self._children.items():
                code = process.poll()
                if code is not None:
                    shown = f"signal {-code}" if code < 0 else f"exit code {code}"
                    self._say(f"runportal: {name} stopped ({shown}); stopping the others.")
                    return 128 - code if code < 0 else code
        self._say("runportal: stopping beat, worker and web ...")
        return 0

    def _stop_all(self) -> None:
        """SIGTERM in order beat, worker, web; SIGKILL what is left after STOP_TIMEOUT."""
        ordered = [(name, self._children[name]) for name in STOP_ORDER if name in self._children]
        for _name, process in ordered:
            if process.poll() is None:
                # The main process only: Celery's worker then shuts down warmly and
                # stops its own pool; Django's autoreloader stops its child.
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and not self._force.is_set():
            if all(process.poll() is not None for _name, process in ordered):
                break
            time.sleep(POLL_INTERVAL)
        for name, process in ordered:
            if process.poll() is None:
                self._say(f"runportal: {name} did not stop in time; killing it.")
            # Kill the whole process group: also what a child left behind
            # (a pool process, the autoreloader's server process).
            self._killpg(process.pid)
            process.wait()
        for reader in self._readers:
            reader.join(timeout=2)

    @staticmethod
    def _killpg(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
