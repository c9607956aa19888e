"""Shared fixtures: a fresh data folder per test and the declarations shipped in the repo."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from wmp_platform.declarations import (
    FeedDeclaration,
    load_declaration,
    load_declarations,
)
from wmp_platform.ingest import load_raw, stage
from wmp_platform.landing import landing_files
from wmp_platform.storage import DataLayout
from wmp_platform.synthetic import generate_estate

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEEDS_DIR = REPO / "assets" / "feeds"


def stage_landed(layout: DataLayout, feeds: Iterable[FeedDeclaration]) -> None:
    """Load and stage every partition landed for each feed, as the ingest assets would."""
    for feed in feeds:
        files, _ = landing_files(feed, layout.feed_landing(feed.landing_folder))
        for partition in sorted({f.partition for f in files}):
            load_raw(layout, feed, partition)
            stage(layout, feed, partition)


def publish_tiny_estate(root: Path, declarations: dict[str, FeedDeclaration]) -> DataLayout:
    """A tiny estate (seed 5) in ``root``, staged, its hub built by the platform's hub build, and published
    once: what search and the search service are tested on."""
    from wmp_platform import hub
    from wmp_platform.matching.clusters import Run
    from wmp_platform.snapshot import publish_snapshot
    from wmp_platform.warehouse import open_warehouse, register_lake_views

    layout = DataLayout(root)
    generate_estate(layout.root, size="tiny", seed=5)
    stage_landed(layout, declarations.values())
    with open_warehouse(layout.warehouse) as con:
        register_lake_views(con, layout, list(declarations))
        run = Run("search-test")
        model, _ = hub.current_person_model(layout)
        hub.build_persons(con, layout, declarations, run, model)
        for kind in ("vehicle", "location"):
            hub.build_places_or_vehicles(con, layout, declarations, run, kind)
        hub.build_pole_links(con, layout, declarations)
    publish_snapshot(layout)
    return layout


@pytest.fixture
def layout(tmp_path) -> DataLayout:
    return DataLayout(tmp_path / "data")


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory) -> Path:
    """The landing folder of a tiny synthetic estate (seed 5), generated once per module."""
    root = tmp_path_factory.mktemp("estate")
    generate_estate(root, size="tiny", seed=5)
    return root / "landing"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder for a module's code location (see code_location.py), not yet created."""
    return tmp_path_factory.mktemp("location") / "data"


@pytest.fixture(scope="session")
def declarations():
    return load_declarations(FEEDS_DIR)


@pytest.fixture
def court_results(layout):
    """The court_results feed (a feed added from YAML and sample files alone) with its files landed."""
    feed = load_declaration(FIXTURES / "court_results" / "defs.yaml")
    shutil.copytree(FIXTURES / "court_results" / "landing", layout.feed_landing(feed.landing_folder))
    return feed
