"""Days of the estate: when in a UK day things happen, and how times are written.

Times are held as aware UTC datetimes and shown in Europe/London local time, so a day with a
clock change still has every event inside its own local day.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from wmp_platform.synthetic.sampling import WeightedChoice

LONDON = ZoneInfo("Europe/London")


def _hours(*weights: float) -> WeightedChoice:
    return WeightedChoice(list(enumerate(weights)))


# Relative activity by local hour, 00:00 to 23:00.
CRIME_HOURS = _hours(3, 2.5, 2, 1.5, 1, 1, 1.5, 2.5, 3.5, 4, 4.5, 5, 5.5, 5.5, 6, 6.5, 7, 7, 7, 6.5, 6, 5.5, 5, 4)
DEMAND_HOURS = _hours(3, 2.5, 2, 1.5, 1, 1, 1.5, 3, 4.5, 5, 5.5, 5.5, 6, 6, 6, 6.5, 7, 7, 7, 6.5, 6, 5.5, 5, 4)
TRAFFIC_HOURS = _hours(1, 0.6, 0.4, 0.4, 0.6, 1.5, 4, 8, 9, 6, 5, 5, 5.5, 5.5, 6, 7, 8.5, 9, 7, 5, 4, 3, 2.5, 1.5)
OFFICE_HOURS = _hours(0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 1, 4, 6, 6, 6, 4, 5, 6, 6, 5, 3, 1, 0.5, 0.3, 0.2, 0.1, 0.1)
NIGHT_HOURS = _hours(6, 5, 4, 3, 2, 1.5, 1, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7, 7, 6.5)


class Day:
    """One partition day: its date, its place in the estate and its local hours in UTC."""

    def __init__(self, day: date, index: int):
        self.date = day
        self.index = index
        self.year = day.year
        self.yy = f"{day.year % 100:02d}"
        self.compact = day.strftime("%Y%m%d")
        self.midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # on a clock-change day the hours do not all share one offset
        self.offsets = [datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).utcoffset() for hour in range(24)]

    def time(self, rng: random.Random, hours: WeightedChoice) -> datetime:
        """A random instant inside this local day, more likely in the busier hours."""
        hour = hours(rng)
        return self.midnight + timedelta(seconds=hour * 3600 + int(rng.random() * 3600)) - self.offsets[hour]

    def at(self, hour: int, minute: int = 0) -> datetime:
        """The instant of a local wall-clock time on this day."""
        return self.midnight + timedelta(hours=hour, minutes=minute) - self.offsets[hour]

    def __repr__(self) -> str:
        return f"Day({self.date.isoformat()})"


def days_from(start: date, count: int) -> list[Day]:
    """The estate's days, starting at start."""
    return [Day(start + timedelta(days=i), i) for i in range(count)]


def minutes(rng: random.Random, mean: float) -> timedelta:
    """An exponentially distributed delay with the given mean, in whole seconds."""
    return timedelta(seconds=int(rng.expovariate(1 / (mean * 60))))


# Writing instants is the commonest thing the estate does, and strftime is slow: an instant is
# written as its local date's text (kept, since it repeats all day) plus its clock time from a
# table. London's offset from UTC only ever changes on the hour, so it is kept per UTC hour.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_offsets: dict[int, int] = {}  # UTC hours since the epoch -> London offset in seconds
_written: dict[tuple[str, object], str] = {}  # (format, date or local day number) -> text


def _clock_table(step: int, fmt: str) -> tuple[str, ...]:
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"[: len(fmt)] for s in range(0, 86400, step))


_CLOCKS = (("%H:%M:%S", 1), ("%H:%M", 60))  # (format ending, seconds per table entry)
_tables: dict[str, tuple[str, ...]] = {}


@cache
def _layout(fmt: str) -> tuple[str, tuple[str, ...] | None, int]:
    """(format of the date part, table of clock texts, seconds per entry); no table if the format ends otherwise."""
    for clock, step in _CLOCKS:
        if fmt.endswith(clock):
            table = _tables.get(clock) or _tables.setdefault(clock, _clock_table(step, clock))
            return fmt[: -len(clock)], table, step
    return fmt, None, 1


def _remember(key: tuple[str, object], text: str) -> str:
    if len(_written) > 1_000_000:
        _written.clear()
    _written[key] = text
    return text


def format_time(value: datetime | date, fmt: str) -> str:
    """A date or an instant (shown in London local time) written in a strptime format.

    A %z offset is written with a colon (+01:00), as ISO 8601 and data.police.uk do.
    """
    if not isinstance(value, datetime):
        text = _written.get((fmt, value))
        return _remember((fmt, value), value.strftime(fmt)) if text is None else text
    head, clock, step = _layout(fmt)
    if clock is None:
        text = value.astimezone(LONDON).strftime(fmt)
        return f"{text[:-2]}:{text[-2:]}" if fmt.endswith("%z") else text
    epoch = int(value.timestamp())
    hour = epoch // 3600
    offset = _offsets.get(hour)
    if offset is None:
        offset = _offsets[hour] = int(datetime.fromtimestamp(hour * 3600, LONDON).utcoffset().total_seconds())
    day, second = divmod(epoch + offset, 86400)
    text = _written.get((head, day))
    if text is None:
        text = _remember((head, day), date.fromordinal(_EPOCH_ORDINAL + day).strftime(head))
    return text + clock[second // step]
