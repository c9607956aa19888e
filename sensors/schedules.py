"""Schedules: the ingest catch-up per job, and the builders the match-and-merge layer plugs into.

The landing sensor loads files as they arrive. Each ingest job also has a morning schedule
that loads what is still unloaded in the last days' partitions: a file whose run failed,
one delivered while the sensor was off, one replaced by an older version. It asks only for
partitions with unloaded files: a plain partitioned schedule would also write an empty
partition for a feed whose file is late, and the feed would then look fresh in the UI.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg

from resources import LakeResource
from wmp_platform.landing_watch import load_requests, pending_deliveries, recent_partitions

from sensors.landing import TRIGGER_TAG, FeedTarget, load_run_request
from sensors.settings import TIMEZONE, RefreshSettings

REFRESH_TAG = "wmp/refresh"  # incremental (the cycle) | full (the nightly rebuild), for the merge assets
CHANGED_TAG = "wmp/changed_upstream"
# Every merge asset writes the warehouse (pool `warehouse`, one writer at a time), so a cycle's steps
# run one after another whatever the executor; in one process each step saves a process start and
# a load of the code location.
IN_ONE_PROCESS = {"execution": {"config": {"in_process": {}}}}
ACTIVE_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                   dg.DagsterRunStatus.STARTED]


def ingest_schedule(
    job, targets: list[FeedTarget], settings: RefreshSettings
) -> dg.ScheduleDefinition:
    """The job's catch-up: runs for its feeds' partitions, over the last days, that hold
    landed files the lake does not."""
    by_feed = {target.feed.name: target for target in targets}
    feeds = {target.feed.name: target.feed for target in targets}
    days = settings.ingest_lookback_days

    @dg.schedule(
        name=f"{job.name}_catch_up",
        cron_schedule=settings.ingest_cron,
        job=job,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Loads files landed in the last {days} days that are not in the lake yet, for the feeds of "
        f"{job.name} (a failed run, a file delivered while the landing sensor was off).",
    )
    def catch_up(context: dg.ScheduleEvaluationContext, lake: LakeResource):
        scheduled = context.scheduled_execution_time or datetime.now(timezone.utc)
        today = scheduled.astimezone(ZoneInfo(TIMEZONE)).date()
        deliveries = []
        for target in targets:
            partitions = [p for p in recent_partitions(target.feed, today, days) if target.has_partition(p)]
            deliveries += pending_deliveries(lake.layout, target.feed, partitions,
                                             settle_seconds=settings.landing_settle_seconds)
        requests = load_requests(deliveries, feeds)
        if not requests:
            return dg.SkipReason(f"every file landed in the last {days} days for the feeds of {job.name} is loaded")
        for request in requests:
            context.log.info(f"{request.feed} {request.span}: "
                             + ", ".join(d.name for d in request.deliveries) + " not loaded yet")
        stamp = scheduled.isoformat(timespec="minutes")
        return [load_run_request(by_feed[r.feed], r, trigger="catch_up", run_key=f"{stamp}/{r.run_key}")
                for r in requests]

    return catch_up


def upstream_changes(
    instance: dg.DagsterInstance, asset_graph, selection: dg.AssetSelection
) -> tuple[list[dg.AssetKey], bool]:
    """The assets upstream of the selection materialised since the selection's oldest latest
    materialisation (ever, when part of the selection never was), and whether part of it never was."""
    selected = selection.resolve(asset_graph)
    upstream = {parent for key in selected for parent in asset_graph.get(key).parent_keys} - selected
    latest = {key: instance.get_latest_materialization_event(key) for key in selected | upstream}
    never = any(latest[key] is None for key in selected)
    oldest = 0.0 if never else min(latest[key].timestamp for key in selected)
    return sorted(key for key in upstream if latest[key] is not None and latest[key].timestamp > oldest), never


def merge_cycle_schedule(
    selection: dg.AssetSelection, every_hours: int, name: str = "match_and_merge_cycle", cron: str | None = None,
) -> dg.ScheduleDefinition:
    """Every `every_hours` hours (a divisor of 24, on the hour, Europe/London), or at `cron`, a
    run of the selection (the match-and-merge assets) if anything upstream of it changed since
    it last ran, tagged wmp/refresh=incremental, in one process (IN_ONE_PROCESS).

    Skipped while the previous cycle still runs. A cycle merges what is staged at its tick;
    files still loading are merged by the next one. The first merge of all (a full build, the
    costly one) waits for a feed to be loaded and for feed loads in progress (landing and
    catch-up runs), so it is not done over half a delivery and then largely again."""
    cron = cron or (f"0 */{every_hours} * * *" if every_hours < 24 else "0 0 * * *")

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        target=selection,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"The match-and-merge cycle ({cron}, Europe/London), over what changed upstream.",
    )
    def cycle(context: dg.ScheduleEvaluationContext):
        instance = context.instance
        running = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/schedule_name": name}, statuses=ACTIVE_STATUSES), limit=1
        )
        if running:
            return dg.SkipReason(f"the previous cycle (run {running[0].dagster_run.run_id[:8]}) is still running")
        changed, first = upstream_changes(instance, context.repository_def.asset_graph, selection)
        if first and not any(key.path[0] == "feeds" for key in changed):
            return dg.SkipReason("no feed is loaded yet: nothing to merge")
        if not changed:
            return dg.SkipReason("nothing upstream changed since the last cycle")
        if first:
            loading = instance.get_run_records(
                dg.RunsFilter(tags={TRIGGER_TAG: ["landing", "catch_up"]}, statuses=ACTIVE_STATUSES), limit=1)
            if loading:
                return dg.SkipReason(f"nothing merged yet and feeds are loading (run "
                                     f"{loading[0].dagster_run.run_id[:8]}): the first merge waits for them")
        listed = ", ".join(k.to_user_string() for k in changed)
        return dg.RunRequest(tags={REFRESH_TAG: "incremental", CHANGED_TAG: listed[:1000]}, run_config=IN_ONE_PROCESS)

    return cycle


def nightly_rebuild_schedule(
    selection: dg.AssetSelection, cron: str, run_config: dict | None = None, name: str = "nightly_full_rebuild",
) -> dg.ScheduleDefinition:
    """A full rebuild of the selection (the entities) at `cron`, Europe/London, tagged
    wmp/refresh=full, in one process; `run_config` tells the merge assets to rebuild rather than update."""
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        target=selection,
        execution_timezone=TIMEZONE,
        run_config={**(run_config or {}), **IN_ONE_PROCESS},
        tags={REFRESH_TAG: "full"},
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="The nightly full rebuild of the entities from every staged feed.",
    )
