"""The platform's real code location, built over a test's data folder.

Definitions bind the data folder and the refresh settings when they load, as the code server
does; tests share one build per module and empty the data folder between tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from wmp_platform.definitions import build_definitions
from wmp_platform.storage import DataLayout


def code_location(data_dir: Path, **settings: str) -> dg.Definitions:
    """build_definitions() with WMP_DATA_DIR=data_dir and the given WMP_* settings
    (e.g. WMP_LANDING_SETTLE_SECONDS="0") in the environment while it loads."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WMP_DATA_DIR", str(data_dir))
        for name, value in settings.items():
            patch.setenv(name, value)
        return build_definitions()


def empty_data_folder(data_dir: Path) -> DataLayout:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    return DataLayout(data_dir)


def execute(defs: dg.Definitions, request: dg.RunRequest, instance: dg.DagsterInstance, **kwargs) -> dg.ExecuteInProcessResult:
    """Run a sensor's or schedule's run request in process, as the daemon would launch it."""
    job = defs.resolve_job_def(request.job_name)
    return job.execute_in_process(
        instance=instance, asset_selection=request.asset_selection, partition_key=request.partition_key,
        tags=request.tags, **kwargs,
    )
