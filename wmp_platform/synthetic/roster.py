"""Who is on duty when: the daily roster every feed draws its officers from.

The duty roster feed publishes it; custody, incidents, crime and the rest take the collar
numbers of officers whose shift covers the time of their event, so every collar number in
them exists in the roster.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from wmp_platform.synthetic.days import LONDON, Day
from wmp_platform.synthetic.population import Officer, Population
from wmp_platform.synthetic.sampling import pick, rng_for

# Response teams rotate through ten days: two early, two late, two night shifts, four rest days.
_ROTATION = ("Early", "Early", "Late", "Late", "Night", "Night", None, None, None, None)
_SHIFTS = {"Early": (7, 10), "Late": (14, 10), "Night": (22, 9), "Day": (8, 8), "Evening": (12, 10), "Course": (9, 8)}
_ABSENCES = (("Annual leave", 0.10), ("Sick", 0.04), ("Training", 0.03), ("Court", 0.02))


@dataclass(frozen=True, slots=True)
class Duty:
    officer: Officer
    status: str
    start: datetime | None
    end: datetime | None


class Roster:
    """Each day's duties, worked out once and kept for that day and the next."""

    def __init__(self, population: Population, seed: int):
        self.population = population
        self.seed = seed
        self._duties: dict[date, list[Duty]] = {}
        self._by_hour: dict[date, list[list[Officer]]] = {}

    def duties(self, day: Day) -> list[Duty]:
        """Every officer's duty on the day, in collar-number order of the force list."""
        if day.date not in self._duties:
            if len(self._duties) > 3:
                self._duties.clear()
            self._duties[day.date] = self._plan(day)
        return self._duties[day.date]

    def _plan(self, day: Day) -> list[Duty]:
        rng = rng_for(self.seed, "roster", day.date.isoformat())
        ordinal = day.date.toordinal()
        weekend = day.date.weekday() >= 5
        duties = []
        for officer in self.population.officers:
            if officer.team.startswith("Response"):
                shift = _ROTATION[(ordinal + 2 * int(officer.team[-1])) % len(_ROTATION)]
            elif weekend:
                shift = None
            else:
                shift = "Evening" if officer.team == "Neighbourhood" else "Day"
            status = "On duty" if shift else "Rest day"
            if shift:
                roll, threshold = rng.random(), 0.0
                for absence, chance in _ABSENCES:
                    threshold += chance
                    if roll < threshold:
                        status = absence
                        shift = "Course" if absence in ("Training", "Court") else None
                        break
            if shift:
                hour, length = _SHIFTS[shift]
                start = day.at(hour)
                duties.append(Duty(officer, status, start, start + timedelta(hours=length)))
            else:
                duties.append(Duty(officer, status, None, None))
        return duties

    def _on_duty_by_hour(self, day: Day) -> list[list[Officer]]:
        """Officers on duty in each local hour of the day, counting last night's shift."""
        if day.date not in self._by_hour:
            if len(self._by_hour) > 3:
                self._by_hour.clear()
            hours: list[list[Officer]] = [[] for _ in range(24)]
            half_past = [day.at(hour, 30) for hour in range(24)]
            yesterday = Day(day.date - timedelta(days=1), day.index - 1)
            for duty in self.duties(yesterday) + self.duties(day):
                if duty.start is None or duty.status != "On duty":
                    continue
                for hour in range(bisect_left(half_past, duty.start), bisect_left(half_past, duty.end)):
                    hours[hour].append(duty.officer)
            self._by_hour[day.date] = hours
        return self._by_hour[day.date]

    def officer_at(self, rng: random.Random, day: Day, when: datetime) -> Officer:
        """An officer on duty at that time of the day (any officer if, unusually, nobody is)."""
        hour = when.astimezone(LONDON).hour
        on_duty = self._on_duty_by_hour(day)[hour] or self.population.officers
        return pick(rng, on_duty)
