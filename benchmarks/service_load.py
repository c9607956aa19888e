"""Load test of the officer search service: many officers searching a 1,000,000-person hub over HTTP,
while the pipeline publishes a new snapshot.

The hub is ``search_latency.py``'s (its builder, imported): ``--people`` synthetic people in two
staged feeds with the estate's recording noise, entities from the truth, then the platform's own
golden records, POLE links and ``snapshot.publish_snapshot``; with a vehicle keeper register of
``--vehicles`` vehicles and every record naming the person's home, so vehicles and places are the
platform's own too (``hub.build_places_or_vehicles``). ``--data-dir`` keeps it for the next run.

Then:

1. **in process**: the officers' queries through ``search.search_person`` / ``search_vehicle`` /
   ``search_location`` and ``search.view`` on the snapshot, one at a time, no HTTP: the floor.
2. **HTTP, one at a time**: ``wmp serve`` (uvicorn on loopback, ``--workers``) answers the same
   queries one after another: the HTTP, token, role-filtering and audit cost over that floor.
3. **under load**: locust (``FastHttpUser``, as a library, in this process) runs ``--users``
   simulated officers for ``--seconds`` after the ramp-up. Each officer has a role token
   (response officer, investigator, intelligence analyst) and repeats: a search with a
   justification -- a person by a noisy name and date of birth (or the name alone), a vehicle by
   registration, or a place by postcode -- then, usually, opens the 360 view of a hit; between
   two requests the officer reads for ``--wait`` seconds (uniform). ``--publish-at`` seconds into
   the measured period a separate process re-publishes the snapshot from the same warehouse (the
   pipeline's step), so the service swaps snapshots under load; the run lasts at least until the
   swap and ``--after-swap`` seconds more.

Printed: p50 / p95 / p99 latency per request type and overall, throughput, error count and rate
(an error: a transport failure or any status but 200), for the whole run and separately before the
publish, while it builds, and around the swap (``--swap-window`` seconds either side); the
servers' peak RSS; PASS or FAIL against the target (p95 <= 100 ms, zero errors).

Locust shares the machine's cores with the server: its CPU time is reported beside the
server's, the latencies include the wait for a core.

    python benchmarks/service_load.py --data-dir /tmp/bench1m_service            # 1,000,000 people
    python benchmarks/service_load.py --smoke                                      # 5,000 people, 20 users, 10 s
    python benchmarks/service_load.py --data-dir D --build-only                    # build the hub, publish, stop
"""

# locust patches the standard library with gevent; it must come before anything opens sockets or threads
from locust import FastHttpUser, between, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import duckdb
import gevent
import numpy as np
import psutil
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_latency import (  # the shared 1,000,000-person hub builder
    REGISTER,
    REPO,
    build_hub,
    people,
    queries,
    write_staged,
)

from wmp_platform.declarations import load_declarations
from wmp_platform.search import (
    person_index,
    search_location,
    search_person,
    search_vehicle,
    view,
)
from wmp_platform.snapshot import (
    current_snapshot,
    open_published,
    publish_snapshot,
    snapshots,
)
from wmp_platform.storage import DataLayout

TARGET_P95_MS = 100.0
# the roles that search, with the share of officers holding each (auditors only read the audit log)
ROLES = {"demo-response-token": 0.6, "demo-investigator-token": 0.25, "demo-analyst-token": 0.15}
JUSTIFICATIONS = ("Stop check on a person at the roadside", "Investigating a reported burglary, log 0412",
                  "Vehicle seen near a reported theft", "Address check before attending a call",
                  "Intelligence development, operation reference 77")
# what an officer looks up, and how often (weights): most enquiries are about a person
MIX = {"person": 5, "person name only": 1, "vehicle": 3, "location": 2}
VIEW_SHARE = 0.7  # how often a search is followed by the 360 view of its first hit
QUERY_POOL = 2000  # distinct queries of each kind the officers draw from


# --- the hub ------------------------------------------------------------------------------------

def build_estate(layout: DataLayout, count: int, vehicles: int, seed: int) -> dict[str, list]:
    """The hub of ``count`` people and ``vehicles`` vehicles, published once, in ``layout`` (reused when
    it already holds a snapshot built from the same truth). Returns the true people."""
    truth = people(count, np.random.default_rng(seed))
    truth_file = layout.ground_truth / "mentions.parquet"
    if truth_file.exists() and snapshots(layout):
        print(f"reusing the hub and snapshot {current_snapshot(layout).name} in {layout.root}", flush=True)
        return truth
    for old in (layout.lake, layout.ground_truth, layout.root / "published", layout.root / "audit"):
        shutil.rmtree(old, ignore_errors=True)
    layout.warehouse.unlink(missing_ok=True)
    declarations = load_declarations(REPO / "assets" / "feeds")
    started = time.perf_counter()
    mention_truth = write_staged(layout, truth, seed, declarations, vehicles=vehicles)
    print(f"staged {mention_truth.num_rows:,} records of {count:,} people and {vehicles:,} vehicles "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    timings = build_hub(layout, mention_truth, declarations)
    print("hub: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()), flush=True)
    started = time.perf_counter()
    published = publish_snapshot(layout)
    print(f"published {published.snapshot_id} in {time.perf_counter() - started:.0f} s "
          f"({published.path.stat().st_size / 1e6:,.0f} MB)", flush=True)
    truth_file.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(mention_truth, truth_file)  # last: its presence says the hub is complete
    return truth


# --- what the officers ask ------------------------------------------------------------------------

def officer_queries(layout: DataLayout, truth: dict[str, list], seed: int, count: int) -> dict[str, list[dict]]:
    """``count`` queries of each kind in ``MIX``, as the API takes them (``q``, and ``dob`` for a person):
    people by a noisy name (a slip, a nickname or an initial) with their date of birth or without it,
    registrations from the keeper register as officers type them, postcodes of the people's homes."""
    rng = random.Random(seed + 3)
    asked = queries(truth, count, seed)
    staged = layout.layer_dir(REGISTER, "staged")
    with duckdb.connect() as con:
        registrations = [r for (r,) in con.execute(
            f"SELECT vehicle_registered_registration FROM read_parquet('{staged}/*.parquet') "
            f"ORDER BY hash(vehicle_registered_registration || '{seed}') LIMIT {count}").fetchall()]
    typed = [r.lower() if rng.random() < 0.3 else f"{r[:4]} {r[4:]}" if len(r) == 7 else r for r in registrations]
    return {
        "person": [{"q": a["name"], "dob": a["dob"].isoformat()} for a in asked],
        "person name only": [{"q": a["name"]} for a in asked],
        "vehicle": [{"q": r} for r in typed],
        "location": [{"q": truth["postcode"][i]} for i in rng.sample(range(len(truth["postcode"])), count)],
    }


def kind_of(label: str) -> str:
    return label.split()[0]


# --- figures --------------------------------------------------------------------------------------

@dataclass
class Sample:
    at: float  # time.time() when the request finished
    name: str  # "search person", "view vehicle", ...
    ms: float
    ok: bool
    error: str = ""


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        value = values[0] if values else float("nan")
        return value, value, value
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98]


def table(title: str, samples: list[Sample], seconds: float | None) -> None:
    """p50 / p95 / p99 per request type and overall, and (given the window's length) throughput."""
    print(f"\n{title}")
    print(f"  {'request':<26} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>7}")
    names = sorted({s.name for s in samples})
    for name, chosen in [*((n, [s for s in samples if s.name == n]) for n in names), ("all", samples)]:
        if not chosen:
            continue
        p50, p95, p99 = quantiles([s.ms for s in chosen])
        rate = f"{len(chosen) / seconds:7.1f}" if seconds else f"{'':>7}"
        errors = sum(not s.ok for s in chosen)
        print(f"  {name:<26} {len(chosen):>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {rate} {errors:>7}")


# --- in process: the floor ------------------------------------------------------------------------

SEARCHES = {
    "person": lambda con, q: search_person(con, q["q"], q.get("dob"), views=0),
    "vehicle": lambda con, q: search_vehicle(con, q["q"], views=0),
    "location": lambda con, q: search_location(con, q["q"], views=0),
}


def in_process(layout: DataLayout, asked: dict[str, list[dict]], count: int) -> list[Sample]:
    """Each kind's first ``count`` queries through the search functions on the snapshot, and the 360 view
    of the first hit: no HTTP, no token, no audit."""
    samples = []
    with open_published(layout) as con:
        person_index(con, con.execute("SELECT snapshot_id FROM published.manifest").fetchall()[0][0])
        for label, chosen in asked.items():
            kind = kind_of(label)
            SEARCHES[kind](con, chosen[-1])  # warm the caches
            for q in chosen[:count]:
                started = time.perf_counter()
                result = SEARCHES[kind](con, q)
                samples.append(Sample(time.time(), f"search {label}", (time.perf_counter() - started) * 1000, True))
                if result.hits:
                    started = time.perf_counter()
                    view(con, kind, result.hits[0].entity_id)
                    samples.append(Sample(time.time(), f"view {kind}", (time.perf_counter() - started) * 1000, True))
    return samples


# --- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, port: int, workers: int) -> subprocess.Popen:
    """``wmp serve`` in its own process group (so it and its workers stop together), once it answers."""
    command = [str(Path(sys.executable).parent / "wmp"), "serve", "--data-dir", str(root), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    log = open(root / "service_load.server.log", "w")  # noqa: SIM115  the server writes it until stopped
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"wmp serve stopped (exit {server.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"wmp serve did not answer /health within 180 s; see {log.name}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def server_processes(server: subprocess.Popen) -> list[psutil.Process]:
    try:
        parent = psutil.Process(server.pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def peak_rss_mb(processes: list[psutil.Process]) -> list[tuple[str, float]]:
    """Each process's part (``wmp serve``, a worker, a helper) and peak resident memory (VmHWM), MB."""
    peaks = []
    for n, process in enumerate(processes):
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            command = " ".join(process.cmdline())
        except (FileNotFoundError, psutil.NoSuchProcess):
            continue
        part = "wmp serve" if n == 0 else "worker" if "spawn_main" in command else "helper"
        peaks += [(part, int(line.split()[1]) / 1024) for line in status.splitlines() if line.startswith("VmHWM:")]
    return peaks


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def api_path(label: str, q: dict, justification: str) -> str:
    params = {**q, "justification": justification}
    return f"/api/search/{kind_of(label)}?{urllib.parse.urlencode(params)}"


def http_one_at_a_time(base: str, asked: dict[str, list[dict]], count: int) -> list[Sample]:
    """The same queries as ``in_process``, over HTTP one after another (a response officer's token)."""
    samples = []
    headers = {"Authorization": "Bearer demo-response-token"}

    def get(path: str) -> tuple[float, dict]:
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=30) as answer:
            body = json.loads(answer.read())
        return (time.perf_counter() - started) * 1000, body

    for label, chosen in asked.items():
        kind = kind_of(label)
        get(api_path(label, chosen[-1], JUSTIFICATIONS[0]))  # warm
        for q in chosen[:count]:
            ms, body = get(api_path(label, q, JUSTIFICATIONS[0]))
            samples.append(Sample(time.time(), f"search {label}", ms, True))
            if body["hits"]:
                ms, _ = get(f"/api/{kind}/{urllib.parse.quote(body['hits'][0]['entity_id'])}?"
                            f"{urllib.parse.urlencode({'justification': JUSTIFICATIONS[0]})}")
                samples.append(Sample(time.time(), f"view {kind}", ms, True))
    return samples


# --- under load -------------------------------------------------------------------------------------

class Officer(FastHttpUser):
    """One officer with a role token: an enquiry is a search with a justification, then (mostly) the 360
    view of its first hit after reading the list; the officer reads between requests (``wait_time``)."""

    wait_time = between(3, 8)  # main() sets --wait
    asked: ClassVar[dict[str, list[dict]]] = {}
    answered_from: ClassVar[list[tuple[float, str]]] = []  # (when, snapshot id) of every search answered
    seeds = iter(range(1_000_000))

    def on_start(self) -> None:
        self.rng = random.Random(next(Officer.seeds))
        token = self.rng.choices(list(ROLES), list(ROLES.values()))[0]
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def enquiry(self) -> None:
        label = self.rng.choices(list(MIX), list(MIX.values()))[0]
        kind, justification = kind_of(label), self.rng.choice(JUSTIFICATIONS)
        path = api_path(label, self.rng.choice(self.asked[label]), justification)
        with self.client.get(path, headers=self.headers, name=f"search {label}", catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"status {answer.status_code}: {(answer.text or '')[:200]}")
                return
            body = answer.json()
            hits = body["hits"]
            Officer.answered_from.append((time.time(), body["snapshot_id"]))
        if hits and self.rng.random() < VIEW_SHARE:
            self.wait()
            entity = urllib.parse.quote(hits[0]["entity_id"])
            self.client.get(f"/api/{kind}/{entity}?{urllib.parse.urlencode({'justification': justification})}",
                            headers=self.headers, name=f"view {kind}")


@dataclass
class LoadRun:
    samples: list[Sample] = field(default_factory=list)
    ramp_samples: int = 0
    started: float = 0.0  # the measured period: after the ramp-up
    publish_started: float = 0.0
    swapped: float = 0.0  # when CURRENT named the new snapshot
    ended: float = 0.0
    publish_status: int | None = None
    server_cpu: float = 0.0
    locust_cpu: float = 0.0
    publish_cpu: float = 0.0
    server_peaks: list[tuple[str, float]] = field(default_factory=list)


def publish_command(root: Path) -> list[str]:
    """The pipeline's publish step, in a process of its own as the pipeline runs it."""
    code = ("import sys; from pathlib import Path; from wmp_platform.snapshot import publish_snapshot; "
            "from wmp_platform.storage import DataLayout; "
            "print(publish_snapshot(DataLayout(Path(sys.argv[1]))).snapshot_id)")
    return [sys.executable, "-c", code, str(root)]


def publish_under_load(layout: DataLayout, args, run: LoadRun) -> None:
    """Publish a new snapshot from the same warehouse in a separate process; note when CURRENT changed."""
    pointer = layout.root / "published" / "CURRENT"
    before = pointer.stat().st_mtime
    run.publish_started = time.time()
    log = layout.root / "service_load.publish.log"
    with open(log, "w") as output:
        publisher = subprocess.Popen(["nice", "-n", str(args.publish_nice), *publish_command(layout.root)],
                                     stdout=output, stderr=subprocess.STDOUT)
        watched = psutil.Process(publisher.pid)
        while publisher.poll() is None:
            try:
                run.publish_cpu = cpu_seconds([watched, *watched.children(recursive=True)])
            except psutil.NoSuchProcess:
                pass
            if time.time() - run.publish_started > args.publish_timeout:
                publisher.kill()  # the run stays bounded; it reports the publish as failed
                publisher.wait()
                break
            gevent.sleep(0.5)
    run.publish_status = publisher.returncode
    swapped = pointer.stat().st_mtime
    if publisher.returncode != 0 or swapped == before:
        print(f"the publish failed (exit {publisher.returncode}); see {log}", flush=True)
        run.swapped = time.time()
    else:
        run.swapped = swapped
        snapshot = log.read_text().strip().splitlines()[-1]
        print(f"published {snapshot} {run.swapped - run.publish_started:.0f} s after it started, under load", flush=True)


def run_load(base: str, layout: DataLayout, server: subprocess.Popen, args) -> LoadRun:
    run = LoadRun()
    env = Environment(user_classes=[Officer], host=base)

    def record(request_type, name, response_time, response_length, exception=None, **_):
        sample = Sample(time.time(), name, float(response_time), exception is None, str(exception or ""))
        if run.started:
            run.samples.append(sample)
        else:
            run.ramp_samples += 1

    env.events.request.add_listener(record)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    while runner.user_count < args.users:
        gevent.sleep(0.2)
    gevent.sleep(args.wait[1])  # every officer has made a first request and is into the rhythm
    processes = server_processes(server)
    me = psutil.Process()
    server_cpu, locust_cpu = cpu_seconds(processes), cpu_seconds([me])
    run.started = time.time()
    if args.no_publish:
        print(f"{args.users} officers running; measuring for {args.seconds} s, no publish", flush=True)
        gevent.sleep(args.seconds)
        run.publish_started = run.swapped = run.ended = time.time()
    else:
        print(f"{args.users} officers running; measuring for {args.seconds} s at least, publishing at "
              f"+{args.publish_at} s", flush=True)
        gevent.sleep(args.publish_at)
        publish_under_load(layout, args, run)
        gevent.sleep(max(0.0, max(run.started + args.seconds, run.swapped + args.after_swap) - time.time()))
        run.ended = time.time()
    run.server_cpu = cpu_seconds(server_processes(server)) - server_cpu
    run.locust_cpu = cpu_seconds([me]) - locust_cpu
    run.server_peaks = peak_rss_mb(server_processes(server))
    runner.quit()
    run.samples = [s for s in run.samples if s.at <= run.ended]
    return run


def report(run: LoadRun, args, floor: list[Sample], one_at_a_time: list[Sample]) -> bool:
    """Print the figures; True when the run meets the target."""
    measured = run.ended - run.started
    width = args.swap_window
    answered = [(at, snapshot) for at, snapshot in Officer.answered_from if run.started <= at <= run.ended]
    served = {}
    for at, snapshot in answered:
        first, last, count = served.get(snapshot, (at, at, 0))
        served[snapshot] = (min(first, at), max(last, at), count + 1)
    # the move: from CURRENT's change to the last search answered from an older snapshot (each worker moves
    # once it has loaded the new one)
    old_answers = [last for snapshot, (_, last, _) in served.items() if snapshot != max(served, default=None)]
    moved = max([run.swapped, *old_answers]) if not args.no_publish else run.swapped
    around = (f"around the swap (from {width:.0f} s before CURRENT changed to {width:.0f} s after the last "
              "answer from the old snapshot)")
    windows = [
        ("before the publish", run.started, run.publish_started),
        ("while the new snapshot builds", run.publish_started, run.swapped - width),
        (around, run.swapped - width, moved + width),
        ("after the swap", moved + width, run.ended),
    ]
    print(f"\n{args.users} officers, wait {args.wait[0]:g}-{args.wait[1]:g} s between requests, "
          f"{args.workers} server workers; measured {measured:.0f} s after the ramp-up "
          f"({run.ramp_samples} requests during the ramp-up not counted)")
    table("whole measured run", run.samples, measured)
    for snapshot, (first, last, count) in sorted(served.items()):
        print(f"  searches answered from snapshot {snapshot}: {count}, from +{first - run.started:.1f} s "
              f"to +{last - run.started:.1f} s")
    if not args.no_publish:
        print(f"  CURRENT changed at +{run.swapped - run.started:.1f} s; the service had moved "
              f"{moved - run.swapped:.1f} s later")
    for title, start, end in windows if not args.no_publish else []:
        if end > start:
            table(f"{title}: {end - start:.0f} s", [s for s in run.samples if start <= s.at < end], end - start)
    errors = [s for s in run.samples if not s.ok]
    if errors:
        print("\nerrors (first 10):")
        for s in errors[:10]:
            print(f"  +{s.at - run.started:6.1f} s {s.name}: {s.error[:160]}")
    cores = os.cpu_count() or 1
    print(f"\nCPU over the measured run ({cores} cores, {cores * measured:.0f} core-seconds): server "
          f"{run.server_cpu:.0f} s, locust {run.locust_cpu:.0f} s, publish {run.publish_cpu:.0f} s "
          f"(niced {args.publish_nice}, exit {run.publish_status})")
    print("server peak RSS: " + ", ".join(f"{part} {mb:,.0f} MB" for part, mb in run.server_peaks)
          + f" (sum {sum(mb for _, mb in run.server_peaks):,.0f} MB)")
    print("\nin process (no HTTP) vs HTTP one request at a time, same queries, p50 / p95 ms:")
    for name in sorted({s.name for s in floor}):
        a = quantiles([s.ms for s in floor if s.name == name])
        b = quantiles([s.ms for s in one_at_a_time if s.name == name])
        c = quantiles([s.ms for s in run.samples if s.name == name])
        print(f"  {name:<26} in process {a[0]:6.1f} / {a[1]:6.1f}   HTTP {b[0]:6.1f} / {b[1]:6.1f} "
              f"(x{b[0] / a[0]:.1f} / x{b[1] / a[1]:.1f})   under load {c[0]:6.1f} / {c[1]:6.1f}")
    p95 = quantiles([s.ms for s in run.samples])[1]
    passed = p95 <= TARGET_P95_MS and not errors and (args.no_publish or run.publish_status == 0)
    swap = "no publish" if args.no_publish else "a snapshot swap included"
    print(f"\ntarget p95 <= {TARGET_P95_MS:.0f} ms and zero errors, {swap}: "
          f"{'PASS' if passed else 'FAIL'} (p95 {p95:.1f} ms, {len(errors)} errors in {len(run.samples)} requests, "
          f"{len(errors) / max(1, len(run.samples)):.2%})")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="build the hub here, or reuse the one there (default: a temporary folder, removed)")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--vehicles", type=int, default=400_000, help="vehicles in the keeper register")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--users", type=int, default=200, help="simulated officers at once")
    parser.add_argument("--spawn-rate", type=float, default=20, help="officers started per second")
    parser.add_argument("--seconds", type=float, default=90, help="measured seconds after the ramp-up (at least)")
    parser.add_argument("--wait", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN", "MAX"),
                        help="seconds an officer reads between two requests")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (one per core)")
    parser.add_argument("--publish-at", type=float, default=20, help="seconds into the measured run")
    parser.add_argument("--publish-nice", type=int, default=19,
                        help="the publishing process's niceness (default 19: on a machine it shares with the "
                             "service, the publish yields to it; 0 makes it compete)")
    parser.add_argument("--no-publish", action="store_true", help="measure without publishing (a quick check)")
    parser.add_argument("--publish-timeout", type=float, default=1800,
                        help="seconds the publish may take under load before it is stopped (and the run fails)")
    parser.add_argument("--after-swap", type=float, default=30, help="seconds measured after the swap, at least")
    parser.add_argument("--swap-window", type=float, default=10, help="'around the swap' is this many seconds either side")
    parser.add_argument("--compare", type=int, default=150, help="queries of each kind in the in-process comparison")
    parser.add_argument("--build-only", action="store_true", help="build and publish the hub, then stop")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick check: 5,000 people, 20 officers, 10 s, wait 1-2 s, the publish not niced "
                             "and stopped after 120 s (no figures to quote)")
    args = parser.parse_args()
    if args.smoke:
        args.people, args.vehicles, args.users, args.spawn_rate, args.seconds = 5000, 2000, 20, 20, 10
        args.wait, args.publish_at, args.after_swap, args.swap_window, args.compare = (1.0, 2.0), 2, 3, 2, 20
        args.publish_nice, args.publish_timeout = 0, 120
    root = args.data_dir or Path(tempfile.mkdtemp(prefix="wmp-service-load-"))
    root.mkdir(parents=True, exist_ok=True)
    layout = DataLayout(root)
    server = None
    try:
        truth = build_estate(layout, args.people, args.vehicles, args.seed)
        if args.build_only:
            return
        asked = officer_queries(layout, truth, args.seed, QUERY_POOL if not args.smoke else 200)
        del truth
        floor = in_process(layout, asked, args.compare)
        port = free_port()
        started = time.perf_counter()
        server = start_server(root, port, args.workers)
        print(f"wmp serve --workers {args.workers} answering on port {port} after {time.perf_counter() - started:.1f} s",
              flush=True)
        base = f"http://127.0.0.1:{port}"
        one_at_a_time = http_one_at_a_time(base, asked, args.compare)
        Officer.asked, Officer.wait_time = asked, between(*args.wait)
        run = run_load(base, layout, server, args)
        passed = report(run, args, floor, one_at_a_time)
    finally:
        if server is not None:
            stop_server(server)
        if args.data_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
