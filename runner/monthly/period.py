"""The report's month: ``YYYY-MM`` in the company's time zone (the SLA policy's, Asia/Jakarta by default)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from runner.errors import ConfigError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    timezone: ZoneInfo

    @classmethod
    def parse(cls, value: str, timezone: ZoneInfo) -> Month:
        match = MONTH.match(value.strip())
        if not match:
            raise ConfigError(f"month {value!r}: expected YYYY-MM (e.g. 2026-11)")
        return cls(int(match[1]), int(match[2]), timezone)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=self.timezone)

    @property
    def end(self) -> dt.datetime:
        """The first instant of the next month (exclusive)."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return dt.datetime(year, month, 1, tzinfo=self.timezone)

    def previous(self) -> Month:
        year, month = (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)
        return Month(year, month, self.timezone)

    def contains(self, moment: dt.datetime | str | None) -> bool:
        when = parse_time(moment)
        return when is not None and self.start <= when < self.end

    def day(self, moment: dt.datetime | str | None) -> str | None:
        """The local date (YYYY-MM-DD) of ``moment``."""
        when = parse_time(moment)
        return when.astimezone(self.timezone).date().isoformat() if when else None


def parse_time(moment: dt.datetime | str | None) -> dt.datetime | None:
    """An ISO 8601 time (``Z`` allowed; naive means UTC), or None when absent or unreadable."""
    if moment is None or isinstance(moment, dt.datetime):
        return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    try:
        when = dt.datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
