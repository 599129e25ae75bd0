"""Business time: working days and hours in a timezone, minus public holidays and local days off.

Intervals are timezone-aware datetimes; the measure of an interval on the business clock is the sum of its
overlaps with each working day's window. Holidays come from the maintained ``holidays`` package (Indonesia's
national holidays, including the lunar ones that move every year) plus the policy's extra days off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3700  # an interval longer than ~10 years is a data error, not a ticket: measured on the wall clock
Interval = tuple[dt.datetime, dt.datetime]


@dataclass
class BusinessCalendar:
    timezone: ZoneInfo
    working_days: frozenset[int]  # 0 = Monday
    start: dt.time
    end: dt.time
    country: str | None = None
    extra_days_off: dict[dt.date, str] = field(default_factory=dict)
    _holidays: dict[int, dict[dt.date, str]] = field(default_factory=dict, repr=False)

    def holidays_of(self, year: int) -> dict[dt.date, str]:
        if year not in self._holidays:
            found = dict(holidays.country_holidays(self.country, years=year)) if self.country else {}
            found.update({d: n for d, n in self.extra_days_off.items() if d.year == year})
            self._holidays[year] = found
        return self._holidays[year]

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays_of(day.year)

    def _window(self, day: dt.date) -> Interval:
        return (dt.datetime.combine(day, self.start, self.timezone), dt.datetime.combine(day, self.end, self.timezone))

    def business_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of ``[start, end)`` inside working hours of working days."""
        if end <= start:
            return 0.0
        first, last = start.astimezone(self.timezone).date(), end.astimezone(self.timezone).date()
        if (last - first).days > MAX_DAYS:
            return (end - start).total_seconds()
        total = 0.0
        day = first
        while day <= last:
            if self.is_working_day(day):
                total += _overlap((start, end), self._window(day))
            day += dt.timedelta(days=1)
        return total

    def within_hours(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.timezone)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end


def _overlap(a: Interval, b: Interval) -> float:
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds())


def measure(calendar: BusinessCalendar, clock: str, start: dt.datetime, end: dt.datetime, *,
            pauses: Sequence[Interval] = (), paused_seconds: float = 0.0) -> float:
    """Elapsed seconds from ``start`` to ``end`` on ``clock`` (wall | business), net of the pauses inside it.

    ``pauses`` are exact intervals (measured on the same clock); ``paused_seconds`` is a total the ticket tool
    computed itself (GLPI's waiting duration), subtracted as given."""
    def span(a: dt.datetime, b: dt.datetime) -> float:
        return calendar.business_seconds(a, b) if clock == "business" else max(0.0, (b - a).total_seconds())

    total = span(start, end)
    for pause_start, pause_end in merge(pauses):
        total -= span(max(start, pause_start), min(end, pause_end))
    return max(0.0, total - paused_seconds)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping pauses counted once."""
    merged: list[Interval] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
