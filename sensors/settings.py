"""Refresh settings of the code location, read from the environment when definitions load."""

import os
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg

TIMEZONE = "Europe/London"


def _number(variable: str, default: float, minimum: float) -> float:
    text = os.environ.get(variable)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r}: not a number") from None
    if value < minimum:
        raise ValueError(f"{variable}={text!r}: must be at least {minimum:g}")
    return value


def _cron(variable: str, default: str) -> str:
    text = (os.environ.get(variable) or default).strip()
    try:
        dg.ScheduleDefinition(name="cron_check", cron_schedule=text, job_name="cron_check")
    except dg.DagsterInvalidDefinitionError:
        raise ValueError(f"{variable}={text!r}: not a cron schedule (minute hour day month weekday)") from None
    return text


@dataclass(frozen=True)
class RefreshSettings:
    """How often the platform looks for work; every value has an environment variable.

    landing_interval_seconds  WMP_LANDING_INTERVAL_SECONDS  seconds between looks at the landing folders (30)
    landing_settle_seconds    WMP_LANDING_SETTLE_SECONDS    a file changed more recently is left for the next look (30)
    ingest_cron               WMP_INGEST_CRON               when the ingest schedules catch up on unloaded files ("15 6 * * *")
    ingest_lookback_days      WMP_INGEST_LOOKBACK_DAYS      how many days back they look (7)
    merge_every_hours         WMP_MERGE_EVERY_HOURS         the match-and-merge cycle (2)
    merge_cron                WMP_MERGE_CRON                the cycle at other times than every N hours, e.g.
                                                            "0 6,10,14,18 * * *" (unset: every merge_every_hours;
                                                            freshness windows follow merge_every_hours either way)
    rebuild_cron              WMP_REBUILD_CRON              the nightly full rebuild of entities ("0 2 * * *")
    automation_interval_seconds  WMP_AUTOMATION_INTERVAL_SECONDS  seconds between evaluations of the automation
                                                            conditions (marts and snapshot after a merge) (30)
    Times are Europe/London.
    """

    landing_interval_seconds: int = 30
    landing_settle_seconds: float = 30.0
    ingest_cron: str = "15 6 * * *"
    ingest_lookback_days: int = 7
    merge_every_hours: int = 2
    rebuild_cron: str = "0 2 * * *"
    merge_cron: str | None = None
    automation_interval_seconds: int = 30

    @property
    def merge_cycle_cron(self) -> str:
        """When the match-and-merge cycle looks for work."""
        if self.merge_cron:
            return self.merge_cron
        return f"0 */{self.merge_every_hours} * * *" if self.merge_every_hours < 24 else "0 0 * * *"

    def merged_freshness(self) -> dg.FreshnessPolicy:
        """Freshness of what the cycle refreshes (entities, marts, the published snapshot).

        Warning: no update for two cycles and an hour, i.e. a cycle missed and the next one not
        through merge, marts and publishing within the hour. Failing: a day more, so the nightly
        rebuild (which runs whether or not anything changed) was missed as well. A quiet spell
        with nothing delivered skips cycles, so the warning also says "nothing merged lately".
        """
        warn = timedelta(hours=2 * self.merge_every_hours + 1)
        return dg.FreshnessPolicy.time_window(warn_window=warn, fail_window=warn + timedelta(hours=24))

    @classmethod
    def from_environment(cls) -> "RefreshSettings":
        default = cls()
        hours = int(_number("WMP_MERGE_EVERY_HOURS", default.merge_every_hours, 1))
        if 24 % hours:
            raise ValueError(f"WMP_MERGE_EVERY_HOURS={hours}: must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)")
        return cls(
            landing_interval_seconds=int(_number("WMP_LANDING_INTERVAL_SECONDS", default.landing_interval_seconds, 1)),
            landing_settle_seconds=_number("WMP_LANDING_SETTLE_SECONDS", default.landing_settle_seconds, 0),
            ingest_cron=_cron("WMP_INGEST_CRON", default.ingest_cron),
            ingest_lookback_days=int(_number("WMP_INGEST_LOOKBACK_DAYS", default.ingest_lookback_days, 1)),
            merge_every_hours=hours,
            rebuild_cron=_cron("WMP_REBUILD_CRON", default.rebuild_cron),
            automation_interval_seconds=int(
                _number("WMP_AUTOMATION_INTERVAL_SECONDS", default.automation_interval_seconds, 1)),
            merge_cron=_cron("WMP_MERGE_CRON", "") if (os.environ.get("WMP_MERGE_CRON") or "").strip() else None,
        )
