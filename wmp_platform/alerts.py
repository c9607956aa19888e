"""Alerts for the platform team: run failures and landed files that cannot be loaded.

Every alert is appended to the alerts table (JSON Lines files in the data folder's
`alerts/`, one file per month, readable by DuckDB as one table) and then sent to the
configured sink: another JSON Lines file, or a webhook that receives a JSON POST. The table
is written first, so an alert the sink did not take is never lost.

The table is not the warehouse: the warehouse file has a single writer, and alerts come
from sensors that run beside the pipeline.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from wmp_platform.storage import DataLayout

SINK_VARIABLE = "WMP_ALERT_SINK"  # a file path (or file://...), or an http(s):// webhook URL
MAX_ERROR_CHARS = 20_000


@dataclass(frozen=True)
class Alert:
    """One thing the platform team should know about.

    kind: run_failure, or landing_<problem> (landing_unknown_folder, landing_unmatched_name,
    ...). The id is derived from what the alert is about, so the same failure recorded twice
    (a sensor tick retried) is one alert when read back.
    """

    kind: str
    summary: str
    raised_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    run_id: str | None = None
    job: str | None = None
    step: str | None = None
    partition: str | None = None
    error: str | None = None
    feed: str | None = None
    file: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        about = [self.kind, self.run_id, self.step, self.file, self.details.get("changed_ns")]
        if not (self.run_id or self.file):
            about.append(self.raised_at)
        return hashlib.sha256(json.dumps(about).encode()).hexdigest()[:16]

    def to_record(self) -> dict:
        return {"id": self.id, **asdict(self)}


def run_failure(run_id: str, job: str, partition: str | None, step: str | None, error: str) -> Alert:
    where = f"step {step}" if step else "the run"
    first_line = error.strip().splitlines()[0] if error.strip() else "no error message"
    return Alert(
        kind="run_failure",
        summary=f"{job} run {run_id[:8]}{f' ({partition})' if partition else ''}: {where} failed: {first_line}",
        run_id=run_id, job=job, step=step, partition=partition,
        error=error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS] + "\n... (cut)",
    )


def landing_problem(kind: str, file: str, reason: str, feed: str | None, changed_ns: int | None = None) -> Alert:
    return Alert(kind=f"landing_{kind}", summary=reason, feed=feed, file=file,
                 details={"changed_ns": changed_ns} if changed_ns is not None else {})


# --- the table ---------------------------------------------------------------------------

def alerts_table(layout: DataLayout, when: datetime | None = None) -> Path:
    """The month's file of the alerts table."""
    when = when or datetime.now(timezone.utc)
    return layout.alerts / f"alerts-{when:%Y-%m}.jsonl"


def _append_lines(path: Path, records: Iterable[dict]) -> None:
    """Append one JSON line per record, whole lines only, under an exclusive lock: sensors in
    several processes may record at the same moment."""
    payload = "".join(json.dumps(record, default=str) + "\n" for record in records).encode()
    if not payload:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, payload)
    finally:
        os.close(descriptor)  # releases the lock


def record(layout: DataLayout, alerts: Sequence[Alert]) -> None:
    _append_lines(alerts_table(layout), (alert.to_record() for alert in alerts))


def read_alerts(layout: DataLayout, kind: str | None = None) -> list[dict]:
    """Every alert in the table, oldest first, each once; `kind` keeps one kind (or prefix
    such as 'landing_')."""
    seen, found = set(), []
    for path in sorted(layout.alerts.glob("alerts-*.jsonl")) if layout.alerts.is_dir() else []:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    alert = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}: line {number} is not JSON: {error}") from None
                if alert["id"] in seen or (kind and not alert["kind"].startswith(kind)):
                    continue
                seen.add(alert["id"])
                found.append(alert)
    return found


# --- sinks ---------------------------------------------------------------------------------

class AlertSinkError(RuntimeError):
    """The sink did not take the alerts (unreachable, or answered with an error)."""


def configured_sink() -> str | None:
    return os.environ.get(SINK_VARIABLE) or None


def send(alerts: Sequence[Alert], sink: str | None, timeout: float = 10.0) -> None:
    """Send alerts to a sink: an http(s) URL receives one JSON POST ({"text": ..., "alerts":
    [...]}, the text field being what chat webhooks display); anything else is a file path to
    which one JSON line per alert is appended."""
    if not sink or not alerts:
        return
    records = [alert.to_record() for alert in alerts]
    if sink.startswith(("http://", "https://")):
        body = json.dumps({"text": "\n".join(a.summary for a in alerts), "alerts": records}, default=str).encode()
        request = urllib.request.Request(sink, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "wmp-platform"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise AlertSinkError(f"alert webhook {sink} answered HTTP {error.code}: {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            raise AlertSinkError(f"alert webhook {sink} is unreachable: {error}") from None
        return
    path = Path(sink.removeprefix("file://")).expanduser()
    try:
        _append_lines(path, records)
    except OSError as error:
        raise AlertSinkError(f"alert file {path} cannot be written: {error}") from None


def raise_alerts(layout: DataLayout, alerts: Sequence[Alert], sink: str | None) -> None:
    """Record the alerts in the table, then send them to the sink (AlertSinkError if it fails)."""
    if alerts:
        record(layout, alerts)
        send(alerts, sink)
