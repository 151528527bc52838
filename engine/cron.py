"""Cron expressions: checking, firing times in a time zone, and a description in words.

Five fields (`minute hour day-of-month month day-of-week`) or six with seconds first
(`second minute hour ...`), as Windmill writes them. Firing times come from croniter
in the schedule's time zone (zoneinfo), so "at 02:00" stays at 02:00 local time across
daylight-saving changes. When clocks go back, a fixed-hour firing (hour field without
`*`) runs once, not twice; interval firings (`*/15 * * * *`) keep real-time spacing.
When clocks go forward past a firing, croniter fires at the first minute after the gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, CroniterError, croniter

from engine.errors import BadInput

DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAY_NAMES = {name[:3].upper(): str(i) for i, name in enumerate(DAYS)}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Cron:
    """A checked cron expression and the time zone it is read in."""

    expression: str
    timezone: str = "UTC"

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> "Cron":
        """Check the expression and the time zone.

        Raises:
            BadInput: wrong number of fields, a field out of range, an expression that
                never fires (`0 0 31 2 *`: February has no 31st day), or an unknown zone.
        """
        text = " ".join((expression or "").split())
        fields = text.split(" ") if text else []
        if len(fields) not in (5, 6):
            raise BadInput(f"a cron expression has 5 fields (minute hour day month weekday) or 6 "
                           f"(seconds first); {text!r} has {len(fields)}")
        zone(timezone)
        try:
            checked = croniter(text, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), second_at_beginning=True)
            checked.get_next(dt.datetime)
        except CroniterBadDateError:
            raise BadInput(f"cron expression {text!r} never fires: {_why_never(checked.expanded)}") from None
        except (CroniterError, ValueError) as exc:
            raise BadInput(f"invalid cron expression {text!r}: {exc}") from None
        return cls(text, timezone)

    @property
    def fields(self) -> list[str]:
        """The five fields without seconds (minute hour day month weekday)."""
        parts = self.expression.split(" ")
        return parts[1:] if len(parts) == 6 else parts

    @property
    def seconds(self) -> str:
        parts = self.expression.split(" ")
        return parts[0] if len(parts) == 6 else "0"

    def firings(self, after: float) -> Iterator[float]:
        """Firing times (epoch seconds) strictly after `after`, in order, without end."""
        tz = zone(self.timezone)
        start = dt.datetime.fromtimestamp(after, tz)
        fixed_hour = "*" not in self.fields[1]
        seen_prev = croniter(self.expression, start, second_at_beginning=True).get_prev(dt.datetime)
        last_wall = seen_prev.replace(tzinfo=None)
        it = croniter(self.expression, start, second_at_beginning=True)
        while True:
            when = it.get_next(dt.datetime)
            wall = when.replace(tzinfo=None)
            if fixed_hour and wall <= last_wall:
                continue  # the repeated hour after clocks went back: already fired
            last_wall = wall
            yield when.timestamp()

    def between(self, after: float, until: float, limit: int = 10_000) -> list[float]:
        """Firing times in (after, until], at most `limit` (the latest ones kept)."""
        times: list[float] = []
        for when in self.firings(after):
            if when > until:
                break
            times.append(when)
            if len(times) > limit:
                times.pop(0)
        return times

    def latest(self, until: float) -> float:
        """The last firing time at or before `until`."""
        start = dt.datetime.fromtimestamp(until, zone(self.timezone)) + dt.timedelta(seconds=1)
        it = croniter(self.expression, start, second_at_beginning=True)
        while True:
            when = it.get_prev(dt.datetime).timestamp()
            if when <= until:
                return when

    def next(self, after: float, count: int = 10) -> list[float]:
        """The next `count` firing times after `after`."""
        out = []
        for when in self.firings(after):
            out.append(when)
            if len(out) == count:
                break
        return out

    def describe(self) -> str:
        """The expression in words for the common forms, else the expression itself."""
        return describe(self.expression)


def zone(name: str) -> ZoneInfo:
    """The zoneinfo time zone `name`, or BadInput naming an example of a valid one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris' or 'UTC'") from None


def _why_never(expanded: list[list[Any]]) -> str:
    """Why no date matches the day and month fields croniter expanded, in words."""
    days, months = expanded[2], expanded[3]
    if not all(isinstance(value, int) for value in [*days, *months]):
        return "no date matches its day and month fields"
    names = _join([MONTHS[month - 1] for month in months])
    ordinals = " or ".join(_ordinal(day) for day in days)
    return f"{names} {'has' if len(months) == 1 else 'have'} no {ordinals} day"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def timezones() -> list[str]:
    """Every IANA time zone name, sorted, UTC first."""
    return ["UTC", *sorted(z for z in available_timezones() if z != "UTC")]


def describe(expression: str) -> str:
    """Say a cron expression in words ("at 02:00 every day", "every 15 minutes")."""
    parts = " ".join((expression or "").split()).split(" ")
    if len(parts) == 6:
        sec, parts = parts[0], parts[1:]
        if sec != "0":
            step = _step(sec)
            if step and parts == ["*"] * 5:
                return "every second" if step == 1 else f"every {step} seconds"
            return f"cron {expression.strip()}"
    if len(parts) != 5:
        return f"cron {expression.strip()}"
    words = _describe5(*parts)
    return words or f"cron {' '.join(parts)}"


def _describe5(minute: str, hour: str, dom: str, month: str, dow: str) -> str | None:
    if month != "*":
        return None
    days = _days(dom, dow)
    if days is None:
        return None
    if hour == "*" and dom == "*" and dow == "*":
        step = _step(minute)
        if step:
            return "every minute" if step == 1 else f"every {step} minutes"
        if minute.isdigit():
            return f"every hour at minute {int(minute)}"
        return None
    if not minute.isdigit():
        return None
    hour_step = _step(hour)
    if hour_step:
        every = "every hour" if hour_step == 1 else f"every {hour_step} hours"
        at = "" if minute == "0" else f" at minute {int(minute)}"
        return f"{every}{at}{'' if days == 'every day' else ' ' + days}"
    hours = hour.split(",")
    if not all(h.isdigit() and int(h) < 24 for h in hours):
        return None
    times = _join([f"{int(h):02d}:{int(minute):02d}" for h in hours])
    return f"at {times} {days}"


def _step(field: str) -> int | None:
    """N for `*/N` (1 for `*`), else None."""
    if field == "*":
        return 1
    if field.startswith("*/") and field[2:].isdigit() and int(field[2:]) > 0:
        return int(field[2:])
    return None


def _days(dom: str, dow: str) -> str | None:
    if dom == "*" and dow in ("*", "?"):
        return "every day"
    if dow in ("*", "?") and dom.isdigit():
        return f"on day {int(dom)} of every month"
    if dom not in ("*", "?"):
        return None
    names = []
    for part in dow.upper().split(","):
        bounds = [_DAY_NAMES.get(b, b) for b in part.split("-")]
        if not all(b.isdigit() and int(b) <= 7 for b in bounds) or len(bounds) > 2:
            return None
        day = [DAYS[int(b) % 7] for b in bounds]
        names.append(f"{day[0]} through {day[1]}" if len(day) == 2 else day[0])
    return "on " + _join(names)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


describe_cron = describe
"""`describe` under the name the engine's public surface gives it."""
