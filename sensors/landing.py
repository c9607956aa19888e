"""The landing sensor: files delivered to any feed's landing folder start runs of that feed's
raw and staged assets for the partitions they belong to.

One sensor looks at every folder. With 80 feeds, one sensor per feed would be 80 ticks per
interval, each a call into the code server and a tick record in the instance, to read
folders that are nearly always unchanged. The listing costs the same either way (one stat
per file: 0.8 s a tick for 80 folders holding a year of daily files, benchmarks/
landing_sensor.py); one sensor pays Dagster's cost per tick once, not 80 times. Runs stay
per feed: each request selects one feed's assets, so feeds never wait for each other and a
failure names its feed.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from resources import LakeResource
from wmp_platform import alerts
from wmp_platform.declarations import FeedDeclaration
from wmp_platform.landing_watch import LandingCursor, LandingScan, LoadRequest, scan_landing

from sensors.settings import RefreshSettings

LANDING_SENSOR = "landing_files"
TRIGGER_TAG = "wmp/trigger"  # landing | catch_up: what asked for the run
FEED_TAG = "wmp/feed"
FILES_TAG = "wmp/landing_files"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
FILES_LISTED = 20  # landing files named in a run's tag; the rest are counted


@dataclass(frozen=True)
class FeedTarget:
    """What a feed's run runs: its job, its raw and staged assets, and their partitions."""

    feed: FeedDeclaration
    job_name: str
    asset_keys: tuple[dg.AssetKey, ...]
    partitions_def: dg.PartitionsDefinition | None

    def has_partition(self, partition: str) -> bool:
        return self.partitions_def is None or self.partitions_def.has_partition_key(partition)


def feed_targets(
    feeds: Sequence[FeedDeclaration], jobs: Sequence, asset_graph
) -> list[FeedTarget]:
    """Each feed with the smallest of the jobs that holds both its assets."""
    selections = {job.name: job.selection.resolve(asset_graph) for job in jobs}
    targets = []
    for feed in feeds:
        keys = (dg.AssetKey(["feeds", feed.name, "raw"]), dg.AssetKey(["feeds", feed.name, "staged"]))
        holding = sorted((len(selected), name) for name, selected in selections.items() if set(keys) <= selected)
        if not holding:
            raise ValueError(f"feed {feed.name!r}: no job holds its assets {[k.to_user_string() for k in keys]}")
        targets.append(FeedTarget(feed, holding[0][1], keys, asset_graph.get(keys[0]).partitions_def))
    return targets


def load_run_request(target: FeedTarget, request: LoadRequest, trigger: str, run_key: str | None = None) -> dg.RunRequest:
    """A run of the feed's job over the request's partitions: one partition key, or a range in
    one run (the feed assets' single-run backfill policy)."""
    names = [d.name for d in request.deliveries]
    listed = ", ".join(names[:FILES_LISTED]) + (f" and {len(names) - FILES_LISTED} more" if len(names) > FILES_LISTED else "")
    tags = {TRIGGER_TAG: trigger, FEED_TAG: request.feed, FILES_TAG: listed}
    partition_key = None
    if target.partitions_def is not None:
        if request.first == request.last:
            partition_key = request.first
        else:
            tags |= {RANGE_START_TAG: request.first, RANGE_END_TAG: request.last}
    return dg.RunRequest(
        run_key=run_key or request.run_key,
        job_name=target.job_name,
        asset_selection=list(target.asset_keys),
        partition_key=partition_key,
        tags=tags,
    )


def problem_alerts(scan: LandingScan) -> list[alerts.Alert]:
    return [alerts.landing_problem(p.kind, p.name, p.reason, p.feed, p.changed_ns) for p in scan.problems]


def skip_reason(scan: LandingScan) -> str:
    parts = []
    if scan.already_loaded:
        parts.append(f"{len(scan.already_loaded)} new file(s) already loaded: "
                     + ", ".join(d.name for d in scan.already_loaded[:FILES_LISTED]))
    if scan.problems:
        parts.append(f"{len(scan.problems)} file(s) cannot be loaded (see the alerts table): "
                     + "; ".join(f"{p.name} ({p.kind})" for p in scan.problems[:FILES_LISTED]))
    if scan.settling:
        parts.append(f"{len(scan.settling)} file(s) still arriving")
    if scan.deferred:
        parts.append(f"{len(scan.deferred)} file(s) left for the next tick")
    return "; ".join(parts) if parts else "no new landing files"


def landing_sensor(
    targets: Sequence[FeedTarget], jobs: Sequence, settings: RefreshSettings
) -> dg.SensorDefinition:
    by_feed = {target.feed.name: target for target in targets}
    feeds = [target.feed for target in targets]

    @dg.sensor(
        name=LANDING_SENSOR,
        jobs=list(jobs),
        minimum_interval_seconds=settings.landing_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "New files in the feeds' landing folders: a run of the feed's raw and staged assets for the "
            "partitions they belong to, once per file content. Files that fit no feed go to the alerts table."
        ),
    )
    def landing_files(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
        try:
            cursor = LandingCursor.from_json(context.cursor)
        except ValueError as error:
            # the lake and the run keys still stop a second load of what was loaded
            context.log.warning(f"{error}; looking at every landing folder afresh")
            cursor = LandingCursor()
        scan = scan_landing(
            lake.layout, feeds, cursor,
            settle_seconds=settings.landing_settle_seconds,
            partition_exists=lambda feed, partition: by_feed[feed.name].has_partition(partition),
        )
        for problem in scan.problems:
            context.log.warning(f"landing file cannot be loaded ({problem.kind}): {problem.reason}")
        if scan.problems:
            try:
                alerts.raise_alerts(lake.layout, problem_alerts(scan), alerts.configured_sink())
            except alerts.AlertSinkError as error:
                # recorded in the table already; a sink that is down must not stop data flowing
                context.log.error(str(error))
        for delivery in scan.already_loaded:
            context.log.info(f"{delivery.name}: its bytes are already loaded in {delivery.feed} {delivery.partition}")
        requests = [load_run_request(by_feed[r.feed], r, trigger="landing") for r in scan.requests]
        for request, load in zip(requests, scan.requests):
            context.log.info(f"{load.feed} {load.span}: {len(load.deliveries)} file(s), run key {request.run_key}")
        observations = [
            dg.AssetObservation(
                asset_key=by_feed[p.feed].asset_keys[0],
                metadata={"landing_problem": p.kind, "file": p.name, "reason": p.reason},
            )
            for p in scan.problems if p.feed in by_feed
        ]
        return dg.SensorResult(
            run_requests=requests,
            skip_reason=None if requests else skip_reason(scan),
            cursor=scan.cursor.to_json(),
            asset_events=observations,
        )

    return landing_files

