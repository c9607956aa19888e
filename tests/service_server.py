"""The officer search service running for real, for tests: ``wmp serve`` in a subprocess on a free
loopback port, over a tiny estate's published snapshot (``conftest.publish_tiny_estate``).

Use it from a test module with ``from service_server import running_service  # noqa: F401`` (or ``service``):
the fixture, named ``service``, yields a ``RunningService`` (base_url, data_dir, layout, tokens by role).
The estate and the server are made once per test process, whichever modules import the fixture, and the
server is stopped at the end of the session.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import publish_tiny_estate

from wmp_platform.storage import DataLayout

# the embedded demo users' tokens (wmp_platform/service/users.yaml stores their SHA-256), by role
SERVICE_TOKENS = {
    "response_officer": "demo-response-token",
    "investigator": "demo-investigator-token",
    "intelligence_analyst": "demo-analyst-token",
    "auditor": "demo-auditor-token",
    "administrator": "demo-admin-token",
}
START_SECONDS = 180  # the machine is shared: importing the app alone can take seconds under load


@dataclass
class RunningService:
    base_url: str
    data_dir: Path
    layout: DataLayout
    process: subprocess.Popen
    log: Path
    tokens: dict[str, str] = field(default_factory=lambda: dict(SERVICE_TOKENS))

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_running: RunningService | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_service(data_dir: Path, *, workers: int = 1) -> RunningService:
    """Start ``wmp serve`` on ``data_dir`` (it may have nothing published yet: it serves once there is)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"service-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "wmp_platform.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
             "--workers", str(workers), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return RunningService(f"http://127.0.0.1:{port}", data_dir, DataLayout(data_dir), process, log)


def wait_until_serving(running: RunningService) -> RunningService:
    """Wait until /health answers 200 (a snapshot is served); the server's log in the error otherwise."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"wmp serve exited with {running.process.returncode}:\n{running.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{running.base_url}/health", timeout=2).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    running.stop()
    raise RuntimeError(f"wmp serve did not serve a snapshot within {START_SECONDS} s:\n{running.log.read_text()[-3000:]}")


def start_service(data_dir: Path, *, workers: int = 1) -> RunningService:
    """Run ``wmp serve`` on a data folder with a published snapshot and wait until it serves it."""
    return wait_until_serving(launch_service(data_dir, workers=workers))


@pytest.fixture(scope="session", name="service")
def running_service(tmp_path_factory, declarations) -> RunningService:
    """The running service over a published tiny estate, shared by every module that imports it."""
    global _running
    if _running is None or _running.process.poll() is not None:
        data_dir = tmp_path_factory.mktemp("service") / "data"
        # the server starts (imports, opens its audit log) while the estate is built, and serves once it is published
        _running = launch_service(data_dir)
        atexit.register(_running.stop)
        publish_tiny_estate(data_dir, declarations)
        wait_until_serving(_running)
    yield _running
    _running.stop()


service = running_service  # importing either name makes the fixture ``service`` available to a test module
