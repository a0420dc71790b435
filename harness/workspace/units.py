"""Durations and dates as written in workspace files."""

from __future__ import annotations

from datetime import UTC, date, datetime

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    """`90d` -> seconds. The schema has already checked the form."""
    return int(text[:-1]) * _SECONDS[text[-1]]


def format_duration(seconds: int) -> str:
    """Seconds -> the largest exact unit, e.g. 3600 -> `1h`."""
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _SECONDS[unit] == 0:
            return f"{seconds // _SECONDS[unit]}{unit}"
    return f"{seconds}s"


def parse_date(text: str) -> date:
    """YYYY-MM-DD -> date; raises ValueError for impossible dates such as 2026-02-30."""
    return date.fromisoformat(text)


def parse_instant(text: str) -> datetime:
    """An ISO date or date-time -> an aware UTC datetime (naive values are UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
