"""Median and spread of repeated measurements, and process memory from /proc."""

import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Spread:
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def fmt(self, digits: int = 1, unit: str = "") -> str:
        return f"{self.median:,.{digits}f}{unit} ({self.low:,.{digits}f}–{self.high:,.{digits}f})"


def spread(values) -> Spread:
    return Spread(tuple(float(v) for v in values))


def ratios(portal, floor) -> Spread:
    """Ratio per repeat (portal and floor measured in the same repeat), then its spread."""
    return spread(p / f for p, f in zip(portal, floor, strict=True))


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the highest resident set size the process has had."""
    return _status_kb(pid, "VmHWM") / 1024


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except FileNotFoundError:
        return []
