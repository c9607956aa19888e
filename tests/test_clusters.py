"""Clusters: stable ids, splits and merges with history, review decisions, guards, incremental link.

Each test builds its mentions and match edges as tables in a DuckDB file of its own.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from wmp_platform.matching.clusters import (
    ClusterSettings,
    HubTables,
    Run,
    changed_entities,
    cluster_full,
    cross_reference,
    link_partition,
)

SETTINGS = ClusterSettings(prefix="P", match_threshold=0.95, review_threshold=0.5, bridge_threshold=0.999,
                           max_cluster_size=50)
TABLES = HubTables.for_kind("person")


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "hub.duckdb")) as connection:
        yield connection


def put_mentions(con, name: str, mentions: list[tuple[str, str]]) -> str:
    table = pa.table({"mention_id": [m for m, _ in mentions], "partition": [p for _, p in mentions]})
    con.register("_incoming", table)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
    con.unregister("_incoming")
    return name


def put_edges(con, name: str, edges: list[tuple[str, str, float]], identical: set[tuple[str, str]] | None = None) -> str:
    """Match edges; with ``identical``, the flag column, true for the pairs named."""
    table = pa.table({
        "mention_id_l": [a for a, _, _ in edges], "mention_id_r": [b for _, b, _ in edges],
        "match_probability": pa.array([p for *_, p in edges], pa.float64()),
        "match_weight": pa.array([0.0] * len(edges), pa.float64()),
        "gamma_surname": pa.array([2] * len(edges), pa.int32()),  # evidence, passed through untouched
    })
    if identical is not None:
        table = table.append_column("identical", pa.array([(a, b) in identical for a, b, _ in edges]))
    con.register("_incoming", table)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
    con.unregister("_incoming")
    return name


def put_decisions(con, decisions: list[tuple[str, str, str]]) -> str:
    con.execute("CREATE OR REPLACE TABLE review_decisions (mention_id_l VARCHAR, mention_id_r VARCHAR, "
                "decision VARCHAR, decided_by VARCHAR, decided_at TIMESTAMPTZ)")
    for i, (a, b, decision) in enumerate(decisions):
        con.execute("INSERT INTO review_decisions VALUES (?, ?, ?, 'analyst 4471', ?)",
                    [a, b, decision, datetime(2026, 10, 5, 9, i, tzinfo=UTC)]).fetchall()
    return "review_decisions"


def entities(con) -> dict[str, str]:
    return dict(con.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").fetchall())


def groups(con) -> set[frozenset[str]]:
    return {frozenset(g) for g, in con.execute(
        f"SELECT list(mention_id) FROM {TABLES.assignments} GROUP BY entity_id").fetchall()}


def history(con) -> list[tuple[str, list[str], list[str]]]:
    return [tuple(r) for r in con.execute(
        f"SELECT kind, old_ids, new_ids FROM {TABLES.history} ORDER BY kind, old_ids").fetchall()]


def day(n: int) -> str:
    return f"2026-10-0{n}"


def build(con, mentions, edges, decisions=None, run="run-1"):
    put_mentions(con, "mentions", mentions)
    put_edges(con, "edges", edges)
    return cluster_full(con, SETTINGS, TABLES, mentions="mentions", edges="edges", decisions=decisions, run=Run(run))


PEOPLE = [("crime|1|victim", day(1)), ("custody|7|detained", day(1)), ("person_index|3|offender", day(2)),
          ("crime|2|suspect", day(2)), ("warrants|9|wanted", day(3)), ("intelligence|4|subject", day(3))]
PEOPLE_EDGES = [("crime|1|victim", "custody|7|detained", 0.99), ("custody|7|detained", "person_index|3|offender", 0.999),
                ("crime|2|suspect", "warrants|9|wanted", 0.97)]


def test_the_same_data_gives_the_same_ids_on_every_run(tmp_path, con):
    build(con, PEOPLE, PEOPLE_EDGES)
    first = entities(con)
    with duckdb.connect(str(tmp_path / "other.duckdb")) as other:
        build(other, PEOPLE, PEOPLE_EDGES)
        assert dict(other.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").fetchall()) == first
    assert groups(con) == {frozenset(PEOPLE[i][0] for i in (0, 1, 2)), frozenset(PEOPLE[i][0] for i in (3, 4)),
                           frozenset([PEOPLE[5][0]])}
    assert all(e.startswith("P-") and len(e) == 14 for e in first.values())
    # an entity's id comes from its earliest mention, so it does not depend on which run made it
    report = build(con, PEOPLE, PEOPLE_EDGES, run="run-2")
    assert entities(con) == first
    assert (report.new_entities, report.splits, report.merges) == (0, 0, 0)
    assert history(con) == []


def test_a_rebuild_with_a_new_partition_keeps_the_ids_of_clusters_that_persist(con):
    build(con, PEOPLE, PEOPLE_EDGES)
    before = entities(con)
    new = [("crime|20|victim", day(4)), ("custody|21|detained", day(4))]
    report = build(con, PEOPLE + new, PEOPLE_EDGES + [("crime|20|victim", "intelligence|4|subject", 0.98)], run="run-2")
    after = entities(con)
    assert {m: after[m] for m in before} == before
    assert after["crime|20|victim"] == before["intelligence|4|subject"]
    assert after["custody|21|detained"] not in before.values()
    assert report.new_entities == 1 and history(con) == []


def test_a_merge_keeps_the_largest_entity_and_a_split_keeps_the_majority(con):
    build(con, PEOPLE, PEOPLE_EDGES)
    before = entities(con)
    big, small = before["crime|1|victim"], before["crime|2|suspect"]
    # the model now links the two: the three-mention entity survives
    build(con, PEOPLE, PEOPLE_EDGES + [("person_index|3|offender", "crime|2|suspect", 0.9999)], run="run-2")
    merged = entities(con)
    assert {merged[m] for m, _ in PEOPLE[:5]} == {big}
    assert history(con) == [("merge", sorted([big, small]), [big])]
    # and later drops the link again: the part with most of the old mentions keeps the id
    build(con, PEOPLE, PEOPLE_EDGES, run="run-3")
    split = entities(con)
    assert {split[m] for m, _ in PEOPLE[:3]} == {big}
    reborn = split["crime|2|suspect"]
    assert reborn == split["warrants|9|wanted"] and reborn not in (big, small)  # small was used: a fresh id
    assert history(con)[-1] == ("split", [big], sorted([big, reborn]))
    runs = con.execute(f"SELECT run_id, kind FROM {TABLES.history} ORDER BY run_time, kind").fetchall()
    assert runs == [("run-2", "merge"), ("run-3", "split")]


def test_ties_go_to_the_earliest_mention_on_a_split_and_the_oldest_entity_on_a_merge(con):
    four = [("a|1|x", day(1)), ("b|1|x", day(1)), ("c|1|x", day(2)), ("d|1|x", day(2))]
    chain = [("a|1|x", "b|1|x", 0.9999), ("b|1|x", "c|1|x", 0.9999), ("c|1|x", "d|1|x", 0.9999)]
    build(con, four, chain)
    whole = entities(con)["a|1|x"]
    build(con, four, [chain[0], chain[2]], run="run-2")  # two halves of two mentions each
    halves = entities(con)
    assert halves["a|1|x"] == halves["b|1|x"] == whole
    other = halves["c|1|x"]
    assert other != whole
    build(con, four, chain, run="run-3")  # equal sizes merge: the older entity (earliest mention) wins
    assert set(entities(con).values()) == {whole}
    assert history(con) == [("merge", sorted([whole, other]), [whole]), ("split", [whole], sorted([whole, other]))]


def test_review_decisions_are_honoured_through_transitive_paths(con):
    mentions = [("a|1|x", day(1)), ("b|1|x", day(1)), ("c|1|x", day(1)), ("x|1|x", day(2)), ("y|1|x", day(2))]
    edges = [("a|1|x", "b|1|x", 0.999), ("b|1|x", "c|1|x", 0.97), ("x|1|x", "y|1|x", 0.7)]
    build(con, mentions, edges)
    assert frozenset({"a|1|x", "b|1|x", "c|1|x"}) in groups(con)
    queued = con.execute(f"SELECT mention_id_l, mention_id_r, reason, gamma_surname FROM {TABLES.review}").fetchall()
    assert queued == [("x|1|x", "y|1|x", "between_thresholds", 2)]

    decisions = put_decisions(con, [("c|1|x", "a|1|x", "different"), ("x|1|x", "y|1|x", "same")])
    build(con, mentions, edges, decisions=decisions, run="run-2")
    found = entities(con)
    assert found["a|1|x"] != found["c|1|x"]  # no direct edge: kept apart through b
    assert found["a|1|x"] == found["b|1|x"]  # b stays with its stronger link
    assert found["x|1|x"] == found["y|1|x"]
    # the decided pair left the queue; the link the decision broke is there for a second look
    assert con.execute(f"SELECT mention_id_l, mention_id_r, reason FROM {TABLES.review}").fetchall() == [
        ("b|1|x", "c|1|x", "held_apart")]
    # a later decision on the same pair replaces the earlier one
    con.execute("INSERT INTO review_decisions VALUES ('a|1|x', 'c|1|x', 'same', 'analyst 5102', '2026-10-06')").fetchall()
    build(con, mentions, edges, decisions=decisions, run="run-3")
    assert len({entities(con)[m] for m in ("a|1|x", "b|1|x", "c|1|x")}) == 1


def test_a_bad_review_decision_is_named(con):
    decisions = put_decisions(con, [("a|1|x", "b|1|x", "maybe")])
    with pytest.raises(ValueError, match=r"\('a\|1\|x', 'b\|1\|x'\) has decision 'maybe'"):
        build(con, [("a|1|x", day(1)), ("b|1|x", day(1))], [], decisions=decisions)


def test_a_weak_bridge_does_not_fuse_two_clusters(con):
    left = [f"crime|{i}|victim" for i in range(3)]
    right = [f"custody|{i}|detained" for i in range(3)]
    mentions = [(m, day(1)) for m in left + right] + [("warrants|1|wanted", day(2))]
    strong = [(a, b, 0.9999) for group in (left, right) for i, a in enumerate(group) for b in group[i + 1:]]
    bridge = (left[2], right[0], 0.97)
    build(con, mentions, strong + [bridge, ("warrants|1|wanted", right[2], 0.96)])
    assert groups(con) == {frozenset(left), frozenset(right + ["warrants|1|wanted"])}  # a lone record still joins
    assert con.execute(f"SELECT reason FROM {TABLES.review}").fetchall() == [("held_apart",)]
    # a bridge the model is sure of is kept
    build(con, mentions, strong + [(left[2], right[0], 0.9995), ("warrants|1|wanted", right[2], 0.96)], run="run-2")
    assert len(groups(con)) == 1


def test_a_giant_component_is_split_by_raising_the_threshold_inside_it(con):
    people = [[f"f{g}|{i}|x" for i in range(20)] for g in range(4)]
    mentions = [(m, day(1)) for group in people for m in group]
    dense = [(a, b, 0.9999) for group in people for i, a in enumerate(group) for b in group[i + 1:]]
    # each pair of neighbouring groups is tied by two moderate links: no bridge, but 80 > max size 50
    ties = [(people[g][k], people[g + 1][k], 0.97) for g in range(3) for k in (0, 1)]
    report = build(con, mentions, dense + ties)
    assert groups(con) == {frozenset(g) for g in people}
    assert report.guarded_components == 1 and report.oversized == 0


def _random_hub(rng: random.Random, people: int, days: list[str]):
    """Mentions of random people over the days, true-pair edges (mostly strong) and noise edges."""
    mentions, owner = [], {}
    for person in range(people):
        for k in range(rng.choice([1, 1, 2, 3, 4, 6])):
            mention = f"feed{rng.randrange(4)}|{person}-{k}|role"
            mentions.append((mention, rng.choice(days)))
            owner[mention] = person
    by_person = {}
    for m, _ in mentions:
        by_person.setdefault(owner[m], []).append(m)
    edges = []
    for group in by_person.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if rng.random() < 0.8:
                    edges.append((a, b, rng.choice([0.96, 0.99, 0.9999, 0.99999])))
    names = [m for m, _ in mentions]
    for _ in range(people // 3):
        edges.append((rng.choice(names), rng.choice(names), rng.choice([0.6, 0.8, 0.97, 0.995])))
    return mentions, [e for e in edges if e[0] != e[1]]


def test_an_incremental_link_touches_only_affected_clusters_and_equals_a_full_rebuild(tmp_path):
    rng = random.Random(7)
    old_mentions, old_edges = _random_hub(rng, 400, [day(1), day(2)])
    new_mentions, new_edges = [], []
    old_names = [m for m, _ in old_mentions]
    for i in range(60):  # a new partition: some known people again, some new ones
        mention = f"crime|new{i}|suspect"
        new_mentions.append((mention, day(3)))
        if i % 3:
            new_edges.append((mention, rng.choice(old_names), rng.choice([0.96, 0.999, 0.99999])))
        if i % 5 == 0 and i:
            new_edges.append((mention, f"crime|new{i - 1}|suspect", 0.98))
        if i % 7 == 0:
            new_edges.append((mention, rng.choice(old_names), 0.7))
    # one new record certain of two known people's records: they merge
    new_mentions.append(("custody|bridge|detained", day(3)))
    new_edges += [("custody|bridge|detained", old_names[10], 0.99999), ("custody|bridge|detained", old_names[40], 0.99999)]
    decisions = [(old_names[0], old_names[1], "different"), (new_mentions[3][0], old_names[5], "same")]

    hubs = []
    for name in ("incremental", "full"):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        decided = put_decisions(con, decisions)
        build(con, old_mentions, old_edges, decisions=decided)
        hubs.append(con)
    incremental, full = hubs
    before = dict(incremental.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").fetchall())
    # two records certain of a settled entity (one held only by certain links), and of each other
    settled = incremental.execute(f"SELECT min(mention_id) FROM {TABLES.assignments} WHERE settled").fetchall()[0][0]
    new_mentions += [("duty_roster|7|officer", day(3)), ("crime|77|officer", day(3))]
    new_edges += [("duty_roster|7|officer", settled, 1.0), ("crime|77|officer", "duty_roster|7|officer", 1.0)]

    # a restaged record of the hub is linked again: its stored link comes back (the other way round)
    relinked_left, relinked_right, relinked_p = old_edges[0]
    relinked = (relinked_left, dict(old_mentions)[relinked_left])
    put_mentions(incremental, "new_mentions", [*new_mentions, relinked])
    put_edges(incremental, "new_edges", [*new_edges, (relinked_right, relinked_left, relinked_p)])
    report = link_partition(incremental, SETTINGS, TABLES, mentions="new_mentions", edges="new_edges",
                            decisions="review_decisions", run=Run("run-2"))
    build(full, old_mentions + new_mentions, old_edges + new_edges, decisions="review_decisions", run="run-2")

    def state(con, query):
        return sorted(map(tuple, con.execute(query).fetchall()))

    for query in (f"SELECT mention_id, entity_id, component_id, settled FROM {TABLES.assignments}",
                  f"SELECT kind, old_ids, new_ids, mentions FROM {TABLES.history}",
                  f"SELECT mention_id_l, mention_id_r, entity_id_l, entity_id_r, reason FROM {TABLES.review}",
                  f"SELECT mention_id_l, mention_id_r, match_probability FROM {TABLES.links}"):
        assert state(incremental, query) == state(full, query)
    after = dict(incremental.execute(f"SELECT mention_id, entity_id FROM {TABLES.assignments}").fetchall())
    changed = {m for m in before if after[m] != before[m]}
    # only the touched components are re-clustered; records certain of a settled entity just join it
    assert report.attached >= 2
    assert after["crime|77|officer"] == after["duty_roster|7|officer"] == before[settled]
    assert len(new_mentions) < report.mentions + report.attached < len(old_mentions) / 2
    assert changed and len(changed) < report.mentions
    assert after[new_mentions[3][0]] == after[old_names[5]]
    assert after[old_names[0]] != after[old_names[1]]
    assert after[old_names[10]] == after[old_names[40]] and before[old_names[10]] != before[old_names[40]]
    assert report.merges > 0
    for con in hubs:
        con.close()


def test_edges_naming_an_unknown_mention_are_refused(con):
    with pytest.raises(ValueError, match=r"pair \('a\|1\|x', 'ghost\|1\|x'\) names a mention not in 'mentions'"):
        build(con, [("a|1|x", day(1))], [("a|1|x", "ghost|1|x", 0.99)])


def test_linking_day_by_day_from_no_hub_groups_mentions_as_one_build_does(tmp_path):
    mentions, edges = _random_hub(random.Random(11), 150, [day(1), day(2), day(3)])
    partition_of = dict(mentions)
    with duckdb.connect(str(tmp_path / "daily.duckdb")) as daily, duckdb.connect(str(tmp_path / "once.duckdb")) as once:
        for n in (1, 2, 3):
            put_mentions(daily, "new_mentions", [m for m in mentions if m[1] == day(n)])
            put_edges(daily, "new_edges", [e for e in edges if max(partition_of[e[0]], partition_of[e[1]]) == day(n)])
            link_partition(daily, SETTINGS, TABLES, mentions="new_mentions", edges="new_edges", run=Run(f"day-{n}"))
        build(once, mentions, edges)
        assert groups(daily) == groups(once)
        assert len(groups(once)) < len(mentions)


def test_the_cross_reference_made_again_in_part_after_each_link_equals_one_made_anew(con):
    mentions, edges = _random_hub(random.Random(5), 200, [day(1), day(2), day(3)])
    partition_of = dict(mentions)
    con.execute("CREATE TABLE person_mentions (mention_id VARCHAR, feed VARCHAR, record_key VARCHAR, role VARCHAR)")
    con.executemany("INSERT INTO person_mentions VALUES (?, ?, ?, ?)", [(m, *m.split("|")) for m, _ in mentions])
    decisions = put_decisions(con, [])
    refreshed = []
    for n in (1, 2, 3):
        new_mentions = [m for m in mentions if m[1] == day(n)]
        new_edges = [e for e in edges if max(partition_of[e[0]], partition_of[e[1]]) == day(n)]
        if n == 3:  # pairs of mentions of one entity
            pairs = con.execute(f"""
                SELECT a.mention_id, b.mention_id, list(c.mention_id), l.mention_id_l IS NOT NULL
                FROM {TABLES.assignments} a
                JOIN {TABLES.assignments} b ON a.entity_id = b.entity_id AND a.mention_id < b.mention_id
                JOIN {TABLES.assignments} c ON c.entity_id = a.entity_id
                LEFT JOIN {TABLES.links} l ON l.mention_id_l = a.mention_id AND l.mention_id_r = b.mention_id
                GROUP BY ALL ORDER BY a.mention_id, b.mention_id""").fetchall()
            touched = {m for e in new_edges for m in e[:2]}
            split, same = pairs[0][:2], next(p[:2] for p in pairs if not set(p[:2]) & set(pairs[0][:2]))
            # not linked yet, of an entity nothing else on the day touches: only the new link changes its rows
            relinked = next(p[:2] for p in reversed(pairs) if not p[3] and not touched & set(p[2]))
            # an analyst says two are not the same (the entity splits) and two others are (a flag only)
            con.execute("INSERT INTO review_decisions VALUES (?, ?, 'different', 'analyst 4471', now())", split)
            con.execute("INSERT INTO review_decisions VALUES (?, ?, 'same', 'analyst 4471', now())", same)
            # a restaged record, re-linked with a link stronger than any it had
            new_mentions.append((relinked[0], partition_of[relinked[0]]))
            new_edges.append((*relinked, 0.9999999))
        put_mentions(con, "new_mentions", new_mentions)
        put_edges(con, "new_edges", new_edges)
        if n > 1:
            con.execute(f"CREATE OR REPLACE TABLE before AS SELECT mention_id, entity_id FROM {TABLES.assignments}")
        link_partition(con, SETTINGS, TABLES, mentions="new_mentions", edges="new_edges", decisions=decisions,
                       run=Run(f"day-{n}"))
        changed = changed_entities(con, TABLES.assignments, before="before", mentions="new_mentions") if n > 1 else None
        cross_reference(con, TABLES, mentions="person_mentions", decisions=decisions, changed=changed,
                        new_links="new_edges")
        if n > 1:
            refreshed.append(con.execute("SELECT count(*) FROM _xref_refresh").fetchall()[0][0])
    assert 0 < max(refreshed) < len(mentions)  # made again in part
    cross_reference(con, TABLES, mentions="person_mentions", decisions=decisions, out="xref_anew")
    xref = f"{TABLES.assignments}_xref"
    for one, other in ((xref, "xref_anew"), ("xref_anew", xref)):
        assert con.execute(f"SELECT count(*) FROM (FROM {one} EXCEPT ALL FROM {other})").fetchall()[0][0] == 0
    assert con.execute(f"SELECT count(*) FROM {xref}").fetchall()[0][0] == len(mentions)


def test_the_cross_reference_says_why_each_record_is_in_its_entity(con):
    decisions = put_decisions(con, [("intelligence|4|subject", "warrants|9|wanted", "same")])
    build(con, PEOPLE, PEOPLE_EDGES, decisions=decisions)
    con.execute("""CREATE TABLE person_mentions AS SELECT mention_id, split_part(mention_id, '|', 1) AS feed,
                   split_part(mention_id, '|', 2) AS record_key, split_part(mention_id, '|', 3) AS role FROM mentions""")
    xref = cross_reference(con, TABLES, mentions="person_mentions", decisions=decisions)
    rows = {r[0]: r[1:] for r in con.execute(
        f"SELECT mention_id, feed, record_key, linked_mention_id, match_probability, gamma_surname, decided "
        f"FROM {xref}").fetchall()}
    entity = entities(con)
    assert rows["crime|1|victim"] == ("crime", "1", "custody|7|detained", 0.99, 2, False)
    assert rows["custody|7|detained"][2:4] == ("person_index|3|offender", 0.999)  # its strongest link
    assert rows["intelligence|4|subject"] == ("intelligence", "4", None, None, None, True)
    assert entity["intelligence|4|subject"] == entity["warrants|9|wanted"]
    assert len(rows) == len(PEOPLE)


def test_identical_records_count_as_every_copy_they_stand_for(con):
    """Copies of one record are linked only to the earliest of them (the matcher scores one): the
    guards count each group as all the pairs its copies make, so they decide as on every pair."""
    def copies(name, n, d):
        return [(f"{name}|{i}", day(d)) for i in range(n)]

    def star(group):
        return [(m, group[0][0], 0.99999) for m, _ in group[1:]]

    def clustered(mentions, edges, flagged):
        put_mentions(con, "mentions", mentions)
        put_edges(con, "edges", edges, {(a, b) for a, b, p in edges if p > 0.9999} if flagged else None)
        cluster_full(con, SETTINGS, TABLES, mentions="mentions", edges="edges", run=Run("run"))
        return groups(con)

    # two groups of three copies joined by one moderate pair: 3 x 3 pairs, none of them a bridge
    a, b = copies("a", 3, 1), copies("b", 3, 2)
    edges = star(a) + star(b) + [(a[0][0], b[0][0], 0.97)]
    assert clustered(a + b, edges, flagged=True) == {frozenset(m for m, _ in a + b)}
    assert clustered(a + b, edges, flagged=False) == {frozenset(m for m, _ in a), frozenset(m for m, _ in b)}
    # five copies and five records each linked to the earliest copy: 10 + 5 x 5 of 45 pairs, dense
    c, singles = copies("c", 5, 1), copies("s", 5, 2)
    edges = star(c) + [(m, c[0][0], 0.98) for m, _ in singles]
    assert clustered(c + singles, edges, flagged=True) == {frozenset(m for m, _ in c + singles)}
    assert clustered(c + singles, edges, flagged=False) == {frozenset(m for m, _ in c)} | {
        frozenset([m]) for m, _ in singles}
    # a new copy of the first group linked incrementally joins it, and the bridge still holds
    clustered(a + b, star(a) + star(b) + [(a[0][0], b[0][0], 0.97)], flagged=True)
    put_mentions(con, "new_mentions", [("a|3", day(3))])
    put_edges(con, "new_edges", [("a|3", "a|0", 0.99999)], identical={("a|3", "a|0")})
    link_partition(con, SETTINGS, TABLES, mentions="new_mentions", edges="new_edges", run=Run("run-2"))
    assert groups(con) == {frozenset(m for m, _ in a + b) | {"a|3"}}
