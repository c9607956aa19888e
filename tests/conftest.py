"""Shared fixtures: a fresh data folder per test and the declarations shipped in the repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wmp_platform.declarations import load_declaration, load_declarations
from wmp_platform.storage import DataLayout

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FEEDS_DIR = REPO / "assets" / "feeds"


@pytest.fixture
def layout(tmp_path) -> DataLayout:
    return DataLayout(tmp_path / "data")


@pytest.fixture(scope="session")
def declarations():
    return load_declarations(FEEDS_DIR)


@pytest.fixture
def court_results(layout):
    """The court_results feed (a feed added from YAML and sample files alone) with its files landed."""
    feed = load_declaration(FIXTURES / "court_results" / "defs.yaml")
    shutil.copytree(FIXTURES / "court_results" / "landing", layout.feed_landing(feed.landing_folder))
    return feed
