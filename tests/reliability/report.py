"""The reliability report: figures of the long runs, gathered into docs/reliability.md.

Each long-run component writes ``<RELIABILITY_REPORT_DIR>/<name>.json`` through
``write_component`` (nothing happens when the variable is unset, as on CI):

    {"title": "...", "rows": [["label", "value"], ...], "notes": "..."}

``python -m tests.reliability.report [report_dir] [output]`` renders every such file
into one Markdown page: when and where it ran, the versions, then one section per
file — the storm, the property model, then the others by name.
"""

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

REPORT_DIR_VARIABLE = "RELIABILITY_REPORT_DIR"
DEFAULT_REPORT_DIR = Path("reports/reliability")
DEFAULT_OUTPUT = Path("docs/reliability.md")
FIRST = ("storm", "property_model")
PACKAGES = ("Django", "django-fsm-2", "psycopg", "celery", "hypothesis", "pytest", "pytest-django")


def long_run() -> bool:
    """Whether the long variants are asked for (``STRESS=long``, set by ``make stress``)."""
    return os.environ.get("STRESS", "").lower() == "long"


def write_component(name: str, *, title: str, rows: list[tuple[str, object]], notes: str = "") -> Path | None:
    """Write one component's figures, when a report directory is set."""
    directory = os.environ.get(REPORT_DIR_VARIABLE)
    if not directory:
        return None
    path = Path(directory) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"title": title, "rows": [[str(label), str(value)] for label, value in rows], "notes": notes}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _order(path: Path) -> tuple[int, str]:
    return (FIRST.index(path.stem) if path.stem in FIRST else len(FIRST), path.stem)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "SQLite (DATABASE_URL unset)"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://…@{rest.rpartition('@')[2]}" if "@" in rest else url


def _cell(value: str) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(report_dir: Path, *, now: datetime | None = None) -> str:
    files = sorted(report_dir.glob("*.json"), key=_order)
    if not files:
        raise SystemExit(f"no component reports in {report_dir}: run the long tests with {REPORT_DIR_VARIABLE} set")
    now = now or datetime.now(UTC)
    lines = [
        "# Reliability report",
        "",
        "Produced by `make stress`: the long variants of the tests in `tests/reliability`",
        "(`STRESS=long`) against PostgreSQL, each writing its figures, rendered by",
        "`python -m tests.reliability.report`. CI runs the same tests in their short variants.",
        "",
        f"- Generated: {now:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.node() or 'unknown'} — {platform.platform()}, {os.cpu_count()} CPUs",
        f"- Python {platform.python_version()} ({sys.implementation.name})",
        f"- Database: {_database()}",
        "- Versions: " + ", ".join(f"{package} {_version(package)}" for package in PACKAGES),
        "",
    ]
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        lines += [f"## {data.get('title') or path.stem}", "", "| | |", "|---|---|"]
        lines += [f"| {_cell(label)} | {_cell(value)} |" for label, value in data.get("rows", [])]
        notes = (data.get("notes") or "").strip()
        if notes:
            lines += ["", notes]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    report_dir = Path(argv[0]) if argv else Path(os.environ.get(REPORT_DIR_VARIABLE) or DEFAULT_REPORT_DIR)
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(report_dir), encoding="utf-8")
    print(f"wrote {output} from {len(list(report_dir.glob('*.json')))} component reports in {report_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
