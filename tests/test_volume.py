"""Volume anomalies against the feed's own history of partitions."""

from __future__ import annotations

from wmp_platform import ingest
from wmp_platform.quality.volume import volume

HEADER = "CaseURN,HearingNo,HearingDate,DefForename,DefSurname,DefDOB,DefPNC,DefPostcode,Court,Result,Remanded\n"


def land_day(layout, feed, day: int, rows: int) -> str:
    lines = [f"20BW{day:02d}{n:05d},1,{day:02d}/11/2026 10:00,Ann,Lee,01/01/1990,,B1 1AA,Court,Bail,N\n" for n in range(rows)]
    (layout.feed_landing("court_results") / f"court_results_202611{day:02d}.csv").write_text(HEADER + "".join(lines))
    partition = f"2026-11-{day:02d}"
    ingest.load_raw(layout, feed, partition)
    return partition


def test_a_partition_far_outside_its_history_is_an_anomaly(layout, court_results):
    policy = court_results.quality.volume
    first = land_day(layout, court_results, 1, 100)
    assert volume(layout, court_results, first).median is None  # no history yet: never an anomaly
    for day in (2, 3, 4):
        land_day(layout, court_results, day, 100 + day)
    normal = volume(layout, court_results, land_day(layout, court_results, 5, 95))
    assert normal.history == 4 and normal.median == 102.5
    assert not normal.anomalous(policy.min_ratio, policy.max_ratio)
    low = volume(layout, court_results, land_day(layout, court_results, 6, 12))
    assert low.anomalous(policy.min_ratio, policy.max_ratio)
    high = volume(layout, court_results, land_day(layout, court_results, 7, 400))
    assert high.anomalous(policy.min_ratio, policy.max_ratio)
