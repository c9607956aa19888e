"""Clusters: pairwise match edges turned into entities with stable ids.

The clustering rule, the same for a full build and for linking a new partition, so the two
give the same entities on the same edges:

1. **Links.** A pair of mentions is linked when its match probability is at least
   ``match_threshold``. An analyst's latest review decision on a pair overrides the model:
   ``same`` links it whatever its score (a *forced* link); ``different`` unlinks it and keeps
   the two mentions in different entities even through other paths.
2. **Components.** Linked mentions form connected components.
3. **Size and density guard.** A component of more than ``max_cluster_size`` mentions, or of
   more than ``small_cluster`` mentions with fewer than ``min_density`` of its possible pairs
   linked (see *identical records* below), is split by raising the threshold inside it, one
   step of ``guard_ladder`` at a time, until every part passes or the ladder ends (a part still
   too big is kept and counted in the report). Forced links always stay.
4. **Weak bridges.** Inside each part, a link whose removal would cut the part into two groups
   of at least two mentions each, and whose probability is below ``bridge_threshold``, is cut,
   weakest first, until none is left: two groups of records that agree only through one
   moderate pair are two entities. A single mention hanging on one link is not cut (every
   pair of records is joined by a bridge).
5. **Review 'different'.** A part holding both mentions of a ``different`` pair is rebuilt by
   adding its links strongest first (forced first), skipping any link that would join such a
   pair.

Identical records. Edges may carry a boolean ``identical``: the two mentions are equal in every
compared field, so a matcher scores one of them (the group's earliest) and links the others to it
at a probability no guard cuts (``certain``), instead of scoring each copy against everything the
first meets. The rule then counts each group of identical mentions as the copies it holds, so it
decides as it would on every pair: a group of g mentions stands for g(g-1)/2 linked pairs, an edge
between two groups of g and h mentions for g*h pairs, and such an edge is a bridge (step 4) only
when both groups are single mentions.

Stable ids. Mentions are ordered by (partition, mention_id): the *earliest* mention is the
first in that order. An entity keeps its id from one run to the next wherever it persists:

- **Split**: an old entity whose mentions now lie in several clusters gives its id to the
  cluster holding most of its mentions; ties go to the cluster holding its earliest mention.
- **Merge**: a cluster that is the heir of several old entities keeps the id of the one with
  most mentions in it; ties go to the oldest entity (the one whose earliest mention is
  earliest), then to the smaller id.
- **New**: a cluster inheriting no id gets ``<prefix>-`` and the first 12 hex digits of the MD5
  of its seed (its earliest mention id, or a natural key such as a registration); if that id
  was ever used (current ids and every id in the history) or an earlier new cluster of the run
  has it, ``#1``, ``#2`` ... is appended to the seed until it is free. The same data therefore
  gives the same ids on every run.

Every split and merge (and every entity whose mentions all disappeared, ``retire``) is
appended to the history table with the run id and time.

Review queue: links between ``review_threshold`` and ``match_threshold`` whose mentions ended
in different entities (reason ``between_thresholds``), and links above ``match_threshold``
that a guard held apart (``held_apart``), unless an analyst already decided the pair.

Incremental link: only the components touched by the new mentions' links (and by review
decisions: a 'same' pair in two entities, a 'different' pair inside one component) are
re-clustered, with every stored link among their mentions, then the id rules above run against
their previous ids. Each assignment row keeps its component (the earliest mention of its
pre-guard component), which is how the touched components are found without walking the graph,
and whether that component is *settled* (one entity held by links no guard can cut: at or above
``ClusterSettings.certain``): new mentions joined to a settled component by such links only
simply join its entity, as re-clustering would (an officer's records, tied by collar number).
Mentions are only added this way; a rebuild (``cluster_full``) also drops mentions that are gone
(their entities are recorded as ``retire``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from wmp_platform.sql import quote, sql_literal

DECISIONS = ("same", "different")
EDGE_COLUMNS = ("mention_id_l", "mention_id_r", "match_probability", "match_weight")
IDENTICAL = "identical"  # an optional edge column (see the module docstring)
DECISION_COLUMNS = ("mention_id_l", "mention_id_r", "decision", "decided_by", "decided_at")
HISTORY_COLUMNS = (
    "run_id VARCHAR, run_time TIMESTAMPTZ, kind VARCHAR, old_ids VARCHAR[], new_ids VARCHAR[], mentions BIGINT"
)


@dataclass(frozen=True)
class ClusterSettings:
    """Thresholds of the clustering rule (see the module docstring) and the id prefix."""

    prefix: str
    match_threshold: float = 0.95
    review_threshold: float = 0.5
    bridge_threshold: float = 0.999
    max_cluster_size: int = 100
    small_cluster: int = 4
    min_density: float = 0.25
    guard_ladder: tuple[float, ...] = (0.99, 0.999, 0.9999)

    @property
    def certain(self) -> float:
        """A link at or above this no guard ever cuts."""
        return max(self.bridge_threshold, *self.guard_ladder)

    def __post_init__(self):
        if not 0 <= self.review_threshold <= self.match_threshold <= 1:
            raise ValueError(
                f"thresholds must satisfy 0 <= review_threshold ({self.review_threshold}) "
                f"<= match_threshold ({self.match_threshold}) <= 1"
            )


PERSON_SETTINGS = ClusterSettings(prefix="P")


@dataclass(frozen=True)
class HubTables:
    """Names of one entity kind's hub tables in the DuckDB database.

    assignments: mention_id, partition, entity_id, component_id, settled (one row per mention)
    links:       the match edges kept (probability >= review threshold), evidence columns included
    review:      the clerical review queue (recomputed)
    history:     every split, merge and retirement (appended)
    """

    assignments: str
    links: str
    review: str
    history: str

    @classmethod
    def for_kind(cls, kind: str) -> HubTables:
        return cls(f"{kind}_assignments", f"{kind}_links", f"{kind}_review", f"{kind}_history")


@dataclass(frozen=True)
class Run:
    """Who is writing: the run id and time stamped on history rows."""

    run_id: str
    run_time: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class ClusterReport:
    mentions: int = 0  # mentions (re)clustered in this run
    attached: int = 0  # new mentions joined to a settled entity without re-clustering it
    entities: int = 0  # entities among them
    new_entities: int = 0
    splits: int = 0
    merges: int = 0
    retired: int = 0
    guarded_components: int = 0  # components the size/density guard or a weak bridge cut
    oversized: int = 0  # parts still above max_cluster_size at the top of the guard ladder
    review_pairs: int = 0


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    try:
        con.execute(f"SELECT 1 FROM {table} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()}


def identical_sql(con: duckdb.DuckDBPyConnection, edges: str) -> str:
    """The edges' ``identical`` flag (see the module docstring), false where they carry none."""
    return quote(IDENTICAL) if IDENTICAL in columns_of(con, edges) else "false"


def require_columns(con: duckdb.DuckDBPyConnection, table: str, columns, what: str) -> None:
    present = columns_of(con, table)
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(f"{what} table {table!r} lacks column(s) {', '.join(missing)}; has {sorted(present)}")


# --- review decisions --------------------------------------------------------------------


def _latest_decisions(con: duckdb.DuckDBPyConnection, decisions: str | None) -> str:
    """A temp table ``_decisions(a, b, decision)``: the latest decision per unordered pair, checked."""
    con.execute("DROP TABLE IF EXISTS _decisions")
    if decisions is None:
        con.execute("CREATE TEMP TABLE _decisions (a VARCHAR, b VARCHAR, decision VARCHAR)")
        return "_decisions"
    require_columns(con, decisions, DECISION_COLUMNS, "review decisions")
    bad = con.execute(
        f"SELECT mention_id_l, mention_id_r, decision FROM {decisions} "
        f"WHERE decision IS NULL OR decision NOT IN ('same', 'different') "
        f"OR mention_id_l IS NULL OR mention_id_r IS NULL OR mention_id_l = mention_id_r LIMIT 1"
    ).fetchall()
    if bad:
        bad = bad[0]
        raise ValueError(
            f"review decisions table {decisions!r}: pair ({bad[0]!r}, {bad[1]!r}) has decision {bad[2]!r}; "
            f"decision must be one of {DECISIONS} between two different mentions"
        )
    con.execute(f"""
        CREATE TEMP TABLE _decisions AS
        SELECT least(mention_id_l, mention_id_r) AS a, greatest(mention_id_l, mention_id_r) AS b,
               arg_max(decision, struct_pack(t := decided_at, d := decision)) AS decision
        FROM {decisions} GROUP BY ALL""")
    return "_decisions"


# --- clustering one graph ----------------------------------------------------------------


def _union_find_groups(nodes: list, edges) -> list[list]:
    """Connected groups of nodes (mention ids or indices), each in the nodes' order."""
    parent = {n: n for n in nodes}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, *_ in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups = defaultdict(list)
    for n in nodes:
        groups[find(n)].append(n)
    return list(groups.values())


def _split_parts(nodes: list[int], edges: list[tuple]) -> list[tuple[list[int], list[tuple]]]:
    """Connected parts of a (nodes, edges) graph, each with its own edges."""
    groups = _union_find_groups(nodes, edges)
    if len(groups) == 1:
        return [(nodes, edges)]
    where = {n: i for i, group in enumerate(groups) for n in group}
    part_edges = [[] for _ in groups]
    for edge in edges:
        part_edges[where[edge[0]]].append(edge)
    return list(zip(groups, part_edges))


def _bridges(nodes: list[int], edges: list[tuple]) -> list[tuple[int, int]]:
    """(edge index, size of the side below it) for every bridge of a connected graph (Tarjan, iterative)."""
    adjacency = defaultdict(list)
    for i, (a, b, *_) in enumerate(edges):
        adjacency[a].append((b, i))
        adjacency[b].append((a, i))
    discovered, low, size = {}, {}, {}
    found = []
    root = nodes[0]
    discovered[root] = low[root] = 0
    size[root] = 1
    clock = 1
    stack = [(root, -1, iter(adjacency[root]))]
    while stack:
        node, via, neighbours = stack[-1]
        for other, i in neighbours:
            if i == via:
                continue
            if other in discovered:
                low[node] = min(low[node], discovered[other])
            else:
                discovered[other] = low[other] = clock
                size[other] = 1
                clock += 1
                stack.append((other, i, iter(adjacency[other])))
                break
        else:
            stack.pop()
            if stack:
                up = stack[-1][0]
                low[up] = min(low[up], low[node])
                size[up] += size[node]
                if low[node] > discovered[up]:
                    found.append((via, size[node]))
    return found


@dataclass
class _Guard:
    settings: ClusterSettings
    cannot: dict[int, set[int]]
    inner: np.ndarray  # per node, its share of its identical group's pairs: (g - 1) / 2, else 0
    guarded: int = 0
    oversized: int = 0

    def resolve(self, nodes: list[int], edges: list[tuple]) -> list[list[int]]:
        """Steps 3-5 of the rule on one component; edges are (a, b, probability, forced, pairs):
        ``pairs``, the mention pairs the edge stands for (0 for an identical one: see ``inner``)."""
        groups = []
        for part_nodes, part_edges in self._size_and_density(nodes, edges, 0):
            for bridged_nodes, bridged_edges in self._weak_bridges(part_nodes, part_edges):
                groups.extend(self._apart(bridged_nodes, bridged_edges))
        if len(groups) > 1:
            self.guarded += 1
        return groups

    def _too_loose(self, nodes, edges) -> bool:
        n = len(nodes)
        if n > self.settings.max_cluster_size:
            return True
        if n <= self.settings.small_cluster:
            return False
        linked = sum(e[4] for e in edges) + self.inner[nodes].sum()
        return linked < self.settings.min_density * n * (n - 1) / 2

    def _size_and_density(self, nodes, edges, level):
        if not self._too_loose(nodes, edges):
            return [(nodes, edges)]
        if level == len(self.settings.guard_ladder):
            self.oversized += len(nodes) > self.settings.max_cluster_size
            return [(nodes, edges)]
        threshold = self.settings.guard_ladder[level]
        kept = [e for e in edges if e[3] or e[2] >= threshold]
        return [piece for part in _split_parts(nodes, kept) for piece in self._size_and_density(*part, level + 1)]

    def _weak_bridges(self, nodes, edges):
        done, todo = [], [(nodes, edges)]
        while todo:
            part_nodes, part_edges = todo.pop()
            n = len(part_nodes)
            weak = [
                (part_edges[i][2], part_edges[i][0], part_edges[i][1], i)
                for i, below in (_bridges(part_nodes, part_edges) if n >= 4 else [])
                if not part_edges[i][3] and part_edges[i][2] < self.settings.bridge_threshold
                and part_edges[i][4] == 1 and min(below, n - below) >= 2
            ]
            if not weak:
                done.append((part_nodes, part_edges))
                continue
            cut = min(weak)[3]
            todo.extend(_split_parts(part_nodes, part_edges[:cut] + part_edges[cut + 1:]))
        return done

    def _apart(self, nodes, edges) -> list[list[int]]:
        members = set(nodes)
        if not any(members & self.cannot.get(n, set()) for n in nodes):
            return [nodes]
        parent = {n: n for n in nodes}
        group = {n: {n} for n in nodes}

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b, *_ in sorted(edges, key=lambda e: (not e[3], -e[2], e[0], e[1])):
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            small, large = (group[ra], rb) if len(group[ra]) <= len(group[rb]) else (group[rb], ra)
            if any(find(y) == large for x in small for y in self.cannot.get(x, ())):
                continue
            keep, gone = min(ra, rb), max(ra, rb)
            parent[gone] = keep
            group[keep] |= group.pop(gone)
        return [sorted(g) for g in group.values()]


def _components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per node 0..count-1, a label of its connected component on the edges given."""
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def _cluster_graph(
    count: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray, forced: np.ndarray,
    cannot_pairs: list[tuple[int, int]], settings: ClusterSettings, report: ClusterReport, identical: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cluster, component, settled) per node 0..count-1; each label is the smallest node index in it.

    Nodes are numbered in mention order, so the smallest index is the earliest mention. A node is
    settled when its component is one cluster held by certain or forced links only, with no
    'different' pair inside: no guard can act on it, so a mention joining it by certain links
    joins its entity (the fast path of ``link_partition``).
    """
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    raw = _components(count, left, right)
    # relabel each component by its smallest node
    first = np.full(raw.max() + 1, count, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(count))
    component = first[raw]
    cluster = component.copy()
    if not len(left):
        return cluster, component, np.ones(count, dtype=bool)

    sizes = np.bincount(component, minlength=count)
    edge_component = component[left]
    # the mention pairs each edge stands for, and each node's share of its identical group's pairs
    group = _components(count, left[identical], right[identical])
    group_size = np.bincount(group)[group]
    pairs = np.where(identical, 0, group_size[left] * group_size[right])
    inner = (group_size - 1) / 2
    linked = np.bincount(edge_component, weights=pairs, minlength=count) + np.bincount(component, weights=inner,
                                                                                        minlength=count)
    # A weak link can be a bridge only where the links at or above the bridge threshold (and forced
    # ones) do not hold the component together on their own: only there is the bridge search run.
    firm = forced | (probability >= settings.bridge_threshold)
    firm_part = _components(count, left[firm], right[firm])
    bridgeable = np.bincount(component, weights=firm_part != firm_part[component], minlength=count) > 0
    possible = sizes * (sizes - 1) / 2
    loose = (sizes > settings.small_cluster) & (linked < settings.min_density * np.maximum(possible, 1))
    needs = (sizes > settings.max_cluster_size) | loose | ((sizes >= 4) & bridgeable)
    cannot: dict[int, set[int]] = defaultdict(set)
    for a, b in cannot_pairs:
        if component[a] == component[b]:
            needs[component[a]] = True
            cannot[a].add(b)
            cannot[b].add(a)
    unsettled = np.bincount(edge_component, weights=(probability < settings.certain) & ~forced, minlength=count) > 0
    unsettled[[component[a] for a, b in cannot_pairs if component[a] == component[b]]] = True
    work = np.flatnonzero(needs)
    if not len(work):
        return cluster, component, ~unsettled[component]

    guard = _Guard(settings, cannot, inner)
    order = np.argsort(edge_component, kind="stable")
    starts = np.searchsorted(edge_component[order], work, side="left")
    ends = np.searchsorted(edge_component[order], work, side="right")
    node_order = np.argsort(component, kind="stable")
    node_starts = np.searchsorted(component[node_order], work, side="left")
    node_ends = np.searchsorted(component[node_order], work, side="right")
    for c, s, e, ns, ne in zip(work.tolist(), starts.tolist(), ends.tolist(), node_starts.tolist(), node_ends.tolist()):
        chosen = order[s:e]
        edges = list(zip(left[chosen].tolist(), right[chosen].tolist(), probability[chosen].tolist(),
                         forced[chosen].tolist(), pairs[chosen].tolist()))
        nodes = node_order[ns:ne].tolist()
        for group in guard.resolve(nodes, edges):
            cluster[group] = min(group)
    report.guarded_components += guard.guarded
    report.oversized += guard.oversized
    np.logical_or.at(unsettled, component, cluster != component)
    return cluster, component, ~unsettled[component]


def _cluster_nodes(con, settings: ClusterSettings, nodes: str, links: str, report: ClusterReport) -> None:
    """Cluster the mentions of ``nodes`` (mention_id, partition) on ``links`` and the decisions;
    creates temp table ``_membership(mention_id, partition, ord, cluster_id, component_id, settled, seed)``: cluster_id is
    the ord of the cluster's earliest mention, component_id the earliest mention id of its component."""
    con.execute("DROP TABLE IF EXISTS _node_index")
    con.execute(f"""
        CREATE TEMP TABLE _node_index AS
        SELECT mention_id, partition, (row_number() OVER (ORDER BY partition, mention_id) - 1)::BIGINT AS ord
        FROM (SELECT DISTINCT mention_id, partition FROM {nodes})""")
    count = con.execute("SELECT count(*), count(DISTINCT mention_id) FROM _node_index").fetchall()[0]
    if count[0] != count[1]:
        dup = con.execute(
            "SELECT mention_id FROM _node_index GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 LIMIT 1").fetchall()[0][0]
        raise ValueError(f"mention {dup!r} appears with two different partitions")
    count = count[0]
    strong = con.execute(f"""
        WITH pairs AS (
          SELECT least(mention_id_l, mention_id_r) AS a, greatest(mention_id_l, mention_id_r) AS b,
                 max(match_probability) AS p, false AS forced,
                 bool_or({identical_sql(con, links)} AND match_probability >= {settings.certain}) AS identical
          FROM {links} WHERE match_probability >= {settings.match_threshold} AND mention_id_l <> mention_id_r
          GROUP BY ALL
          UNION ALL
          SELECT a, b, 1.0, true, false FROM _decisions WHERE decision = 'same'
        ),
        kept AS (
          SELECT a, b, max(p) AS p, bool_or(forced) AS forced, bool_or(identical) AS identical FROM pairs
          ANTI JOIN (SELECT a, b FROM _decisions WHERE decision = 'different') USING (a, b)
          GROUP BY ALL
        )
        SELECT l.ord AS l, r.ord AS r, kept.p, kept.forced, kept.identical
        FROM kept JOIN _node_index l ON l.mention_id = kept.a JOIN _node_index r ON r.mention_id = kept.b""").fetchnumpy()
    cannot = con.execute("""
        SELECT l.ord, r.ord FROM _decisions d
        JOIN _node_index l ON l.mention_id = d.a JOIN _node_index r ON r.mention_id = d.b
        WHERE d.decision = 'different'""").fetchall()
    cluster, component, settled = _cluster_graph(
        count, np.asarray(strong["l"], dtype=np.int64), np.asarray(strong["r"], dtype=np.int64),
        np.asarray(strong["p"], dtype=np.float64), np.asarray(strong["forced"], dtype=bool), cannot, settings, report,
        np.asarray(strong["identical"], dtype=bool),
    )
    # leaders by position: the node table in ord order, taken at each node's cluster and component
    nodes_in_order = con.sql("SELECT mention_id, partition FROM _node_index ORDER BY ord").to_arrow_table()
    mention_ids = nodes_in_order.column("mention_id")
    membership = pa.table({
        "mention_id": mention_ids, "partition": nodes_in_order.column("partition"),
        "ord": np.arange(count, dtype=np.int64), "cluster_id": cluster,
        "component_id": mention_ids.take(pa.array(component)), "settled": settled,
        "seed": pa.nulls(count, pa.string()),
    })
    con.register("_labels", membership)
    con.execute("DROP TABLE IF EXISTS _membership")
    con.execute("CREATE TEMP TABLE _membership AS SELECT * FROM _labels")
    con.unregister("_labels")


# --- stable ids --------------------------------------------------------------------------


def _entity_id(prefix: str, seed: str) -> str:
    return f"{prefix}-{hashlib.md5(seed.encode()).hexdigest()[:12].upper()}"


def assign_entity_ids(
    con: duckdb.DuckDBPyConnection,
    prefix: str,
    membership: str,
    previous: str | None,
    history: str,
    run: Run,
    used_ids: str | None = None,
    report: ClusterReport | None = None,
) -> str:
    """Give each cluster of ``membership`` an entity id by the stable-id rule (module docstring).

    membership: mention_id, partition, cluster_id (any key naming the cluster), seed (the text hashed
    for a new id; NULL = the cluster's earliest mention id). previous: mention_id, partition,
    entity_id of the same mentions before this run (None on a first build). used_ids: a query
    giving column entity_id of every id in use elsewhere (previous's ids are always counted).
    Appends splits, merges and retirements to ``history`` (created when missing) and returns the
    temp table ``_assigned(mention_id, partition, cluster_id, entity_id)``.
    """
    report = report or ClusterReport()
    con.execute(f"CREATE TABLE IF NOT EXISTS {history} ({HISTORY_COLUMNS})")
    if previous is None:
        con.execute("DROP TABLE IF EXISTS _previous")
        con.execute("CREATE TEMP TABLE _previous (mention_id VARCHAR, partition VARCHAR, entity_id VARCHAR)")
        previous = "_previous"
    # how the clusters overlap the old entities; everything after works on these aggregates
    con.execute("DROP TABLE IF EXISTS _overlap")
    con.execute(f"""
        CREATE TEMP TABLE _overlap AS
        SELECT m.cluster_id, p.entity_id, count(*) AS shared,
               min(struct_pack(p := m.partition, m := m.mention_id)) AS first_shared
        FROM {membership} m JOIN {previous} p USING (mention_id) GROUP BY ALL""")
    con.execute("DROP TABLE IF EXISTS _kept")
    con.execute(f"""
        CREATE TEMP TABLE _kept AS
        WITH first_choice AS (  -- each old entity's heir: the cluster with most of its mentions, ties: its earliest
          SELECT cluster_id, entity_id, shared FROM _overlap
          QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY shared DESC, first_shared) = 1
        ),
        heir AS (SELECT *, count(*) OVER (PARTITION BY cluster_id) AS heirs FROM first_choice),
        age AS (  -- how old the entities contending for one cluster are: their earliest mention
          SELECT entity_id, min(struct_pack(p := partition, m := mention_id)) AS first_mention
          FROM {previous} SEMI JOIN (SELECT entity_id FROM heir WHERE heirs > 1) USING (entity_id) GROUP BY ALL
        )
        SELECT heir.cluster_id, heir.entity_id, heir.shared,
               heir.heirs = 1 OR row_number() OVER (PARTITION BY heir.cluster_id
                                                    ORDER BY heir.shared DESC, age.first_mention, heir.entity_id) = 1
                 AS survives
        FROM heir LEFT JOIN age USING (entity_id)""")
    # new ids for the clusters that inherit none, in SQL; the rare id already in use is salted in Python
    con.execute("DROP TABLE IF EXISTS _minted")
    con.execute(f"""
        CREATE TEMP TABLE _minted AS
        WITH fresh AS (
          SELECT m.cluster_id, min(struct_pack(p := m.partition, m := m.mention_id)) AS first_mention,
                 coalesce(any_value(m.seed) FILTER (WHERE m.seed IS NOT NULL),
                          arg_min(m.mention_id, struct_pack(p := m.partition, m := m.mention_id))) AS seed
          FROM {membership} m ANTI JOIN (SELECT cluster_id FROM _kept WHERE survives) k USING (cluster_id)
          GROUP BY m.cluster_id
        )
        SELECT cluster_id, first_mention, seed, {sql_literal(prefix + '-')} || upper(md5(seed)[1:12]) AS entity_id
        FROM fresh""")
    others = f"UNION ALL SELECT entity_id FROM ({used_ids})" if used_ids else ""
    con.execute("DROP TABLE IF EXISTS _used")
    con.execute(f"""
        CREATE TEMP TABLE _used AS
        SELECT DISTINCT entity_id FROM (SELECT entity_id FROM {previous}
                                        UNION ALL SELECT unnest(old_ids) FROM {history}
                                        UNION ALL SELECT unnest(new_ids) FROM {history} {others})
        SEMI JOIN _minted USING (entity_id)""")
    clashing = con.execute("""
        SELECT cluster_id, seed, first_mention FROM _minted SEMI JOIN _used USING (entity_id)
        UNION
        SELECT cluster_id, seed, first_mention FROM _minted
        QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY first_mention) > 1
        ORDER BY first_mention""").fetchall()
    if clashing:
        in_use = (f"SELECT entity_id FROM {previous} UNION ALL SELECT unnest(old_ids) FROM {history} "
                  f"UNION ALL SELECT unnest(new_ids) FROM {history} {others} UNION ALL SELECT entity_id FROM _minted")
        given: set[str] = set()
        for cluster_id, seed, _ in clashing:
            salt, entity_id = 1, _entity_id(prefix, f"{seed}#1")
            while entity_id in given or con.execute(
                    f"SELECT count(*) FROM ({in_use}) WHERE entity_id = ?", [entity_id]).fetchall()[0][0]:
                salt += 1
                entity_id = _entity_id(prefix, f"{seed}#{salt}")
            given.add(entity_id)
            con.execute("UPDATE _minted SET entity_id = ? WHERE cluster_id = ?", [entity_id, cluster_id]).fetchall()
    con.execute("DROP TABLE IF EXISTS _named")
    con.execute("""
        CREATE TEMP TABLE _named AS
        SELECT cluster_id, entity_id FROM _kept WHERE survives UNION ALL SELECT cluster_id, entity_id FROM _minted""")
    con.execute("DROP TABLE IF EXISTS _assigned")
    con.execute(f"""
        CREATE TEMP TABLE _assigned AS
        SELECT m.mention_id, m.partition, m.cluster_id, n.entity_id FROM {membership} m JOIN _named n USING (cluster_id)""")
    stamp = f"{sql_literal(run.run_id)}, {sql_literal(run.run_time.isoformat())}::TIMESTAMPTZ"
    events = con.execute(f"""
        INSERT INTO {history}
        SELECT {stamp}, 'split', [o.entity_id], list_sort(list(n.entity_id)), sum(o.shared)::BIGINT
        FROM _overlap o JOIN _named n USING (cluster_id)
        GROUP BY o.entity_id HAVING count(*) > 1
        UNION ALL
        SELECT {stamp}, 'merge', list_sort(list(k.entity_id)), [any_value(n.entity_id)], sum(k.shared)::BIGINT
        FROM _kept k JOIN _named n USING (cluster_id)
        GROUP BY k.cluster_id HAVING count(*) > 1
        UNION ALL
        SELECT {stamp}, 'retire', [p.entity_id], [], count(*)
        FROM {previous} p ANTI JOIN _overlap o USING (entity_id)
        GROUP BY p.entity_id
        RETURNING kind""").fetchall()
    report.new_entities += con.execute("SELECT count(*) FROM _minted").fetchall()[0][0]
    report.splits += sum(kind == "split" for kind, in events)
    report.merges += sum(kind == "merge" for kind, in events)
    report.retired += sum(kind == "retire" for kind, in events)
    return "_assigned"


def assign_resolved_entities(
    con: duckdb.DuckDBPyConnection,
    tables: HubTables,
    prefix: str,
    resolution: str,
    *,
    key: str,
    seed: str,
    columns: tuple[str, ...],
    run: Run,
) -> ClusterReport:
    """Replace ``tables.assignments`` with one entity per distinct ``key`` of ``resolution``.

    For entities resolved by a key rather than by match edges (locations, vehicles). resolution:
    mention_id, partition and the key column; seed: SQL over its columns giving the text hashed for
    a new id; columns: the resolution's columns kept beside mention_id, partition and entity_id.
    Ids already in ``tables.assignments`` are kept where they persist (``assign_entity_ids``).
    """
    report = ClusterReport()
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _resolved_membership AS
        SELECT mention_id, partition, {key} AS cluster_id, {seed} AS seed FROM {resolution}""")
    previous = tables.assignments if table_exists(con, tables.assignments) else None
    assigned = assign_entity_ids(con, prefix, "_resolved_membership", previous, tables.history, run, report=report)
    con.execute(f"""
        CREATE OR REPLACE TABLE {tables.assignments} AS
        SELECT a.mention_id, a.partition, a.entity_id, {', '.join(f'r.{c}' for c in columns)}
        FROM {assigned} a JOIN {resolution} r USING (mention_id) ORDER BY a.mention_id""")
    report.mentions, report.entities = con.execute(
        f"SELECT count(*), count(DISTINCT entity_id) FROM {tables.assignments}").fetchall()[0]
    return report


# --- review queue ------------------------------------------------------------------------


def _review_rows_sql(settings: ClusterSettings, links: str, assignments: str) -> str:
    return f"""
        WITH ends AS (SELECT mention_id_l AS mention_id FROM {links} UNION SELECT mention_id_r FROM {links}),
        assigned AS (SELECT mention_id, entity_id FROM {assignments} SEMI JOIN ends USING (mention_id))
        SELECT e.*, al.entity_id AS entity_id_l, ar.entity_id AS entity_id_r,
               CASE WHEN e.match_probability >= {settings.match_threshold} THEN 'held_apart'
                    ELSE 'between_thresholds' END AS reason
        FROM {links} e
        JOIN assigned al ON al.mention_id = e.mention_id_l
        JOIN assigned ar ON ar.mention_id = e.mention_id_r
        WHERE e.match_probability >= {settings.review_threshold} AND al.entity_id <> ar.entity_id
          AND NOT EXISTS (SELECT 1 FROM _decisions d WHERE d.a = least(e.mention_id_l, e.mention_id_r)
                                                      AND d.b = greatest(e.mention_id_l, e.mention_id_r))"""


# --- public entry points -----------------------------------------------------------------


def cluster_full(
    con: duckdb.DuckDBPyConnection,
    settings: ClusterSettings,
    tables: HubTables,
    *,
    mentions: str,
    edges: str,
    decisions: str | None = None,
    run: Run,
) -> ClusterReport:
    """Build (or rebuild) a kind's entities from all its mentions and match edges.

    mentions: mention_id, partition (other columns ignored). edges: mention_id_l, mention_id_r,
    match_probability, match_weight and any evidence columns. decisions: the clerical review table
    (mention_id_l, mention_id_r, decision 'same'|'different', decided_by, decided_at).
    When ``tables.assignments`` already exists its ids are kept where clusters persist (a rebuild);
    it, ``tables.links`` and ``tables.review`` are replaced; ``tables.history`` is appended to.
    """
    require_columns(con, mentions, ("mention_id", "partition"), "mentions")
    require_columns(con, edges, EDGE_COLUMNS, "edges")
    _check_endpoints(con, edges, mentions)
    report = ClusterReport()
    _latest_decisions(con, decisions)
    con.execute("DROP TABLE IF EXISTS _links")
    con.execute(f"CREATE TEMP TABLE _links AS SELECT * FROM {edges} WHERE match_probability >= {settings.review_threshold}")
    _cluster_nodes(con, settings, mentions, "_links", report)
    previous = tables.assignments if table_exists(con, tables.assignments) else None
    assigned = assign_entity_ids(con, settings.prefix, "_membership", previous, tables.history, run, report=report)
    con.execute(f"""
        CREATE OR REPLACE TABLE {tables.assignments} AS
        SELECT a.mention_id, a.partition, a.entity_id, m.component_id, m.settled
        FROM {assigned} a JOIN _membership m USING (mention_id) ORDER BY a.mention_id""")
    con.execute(f"CREATE OR REPLACE TABLE {tables.links} AS SELECT * FROM _links")
    con.execute(f"CREATE OR REPLACE TABLE {tables.review} AS {_review_rows_sql(settings, tables.links, tables.assignments)}")
    report.mentions, report.entities = con.execute(
        f"SELECT count(*), count(DISTINCT entity_id) FROM {tables.assignments}").fetchall()[0]
    report.review_pairs = con.execute(f"SELECT count(*) FROM {tables.review}").fetchall()[0][0]
    return report


def _check_endpoints(con, edges: str, *mention_tables: str) -> None:
    # the edges' ends are few, the known mentions many: join the few against each table
    found = " UNION ".join(f"SELECT mention_id FROM ends SEMI JOIN {t} USING (mention_id)" for t in mention_tables)
    unknown = con.execute(f"""
        WITH ends AS (SELECT DISTINCT unnest([mention_id_l, mention_id_r]) AS mention_id FROM {edges}),
        missing AS (SELECT mention_id FROM ends EXCEPT ({found}))
        SELECT e.mention_id_l, e.mention_id_r FROM {edges} e JOIN missing m
          ON m.mention_id = e.mention_id_l OR m.mention_id = e.mention_id_r
        ORDER BY ALL LIMIT 1""").fetchall()
    if unknown:
        unknown = unknown[0]
        raise ValueError(f"edges table {edges!r}: pair ({unknown[0]!r}, {unknown[1]!r}) names a mention not in "
                         f"{' or '.join(repr(t) for t in mention_tables)}")


def _attach_certain(con, settings: ClusterSettings, assignments: str, decided: str) -> None:
    """Temp table ``_attached(mention_id, partition, entity_id, component_id)``: fresh mentions (``_fresh``)
    that join a settled component by certain links only (with the fresh mentions they are certainly
    linked to), no review decision naming them, and later in mention order than the component's
    earliest mention. Re-clustering that component would only add them to its one entity, so they
    are added directly: an officer's thousands of records are not re-clustered each day a new one
    arrives."""
    fresh = dict(con.execute("SELECT mention_id, partition FROM _fresh").fetchall())
    # the hub's rows for the links' ends and their components only: a few thousand of a million
    links = con.execute(f"""
        WITH strong AS (
          SELECT * FROM _new_links WHERE match_probability >= {settings.match_threshold}
          AND (mention_id_l IN (SELECT mention_id FROM _fresh) OR mention_id_r IN (SELECT mention_id FROM _fresh))
        ),
        known AS (
          SELECT mention_id, component_id, settled, entity_id FROM {assignments}
          SEMI JOIN (SELECT unnest([mention_id_l, mention_id_r]) AS mention_id FROM strong) USING (mention_id)
        ),
        components AS (
          SELECT mention_id, partition FROM {assignments}
          SEMI JOIN (SELECT component_id AS mention_id FROM known) USING (mention_id)
        )
        SELECT e.mention_id_l, e.mention_id_r, e.match_probability >= {settings.certain},
               coalesce(al.component_id, ar.component_id), coalesce(al.settled, ar.settled),
               coalesce(al.entity_id, ar.entity_id), c.partition
        FROM strong e
        LEFT JOIN known al ON al.mention_id = e.mention_id_l
        LEFT JOIN known ar ON ar.mention_id = e.mention_id_r
        LEFT JOIN components c ON c.mention_id = coalesce(al.component_id, ar.component_id)
        """).fetchall()
    decided_on = {m for m, in con.execute(f"SELECT unnest([a, b]) FROM {decided}").fetchall()}
    groups = _union_find_groups(list(fresh), [(left, right) for left, right, *_ in links
                                                 if left in fresh and right in fresh])
    group_of = {m: i for i, members in enumerate(groups) for m in members}
    targets: dict[int, set] = defaultdict(set)
    doubtful: set[int] = set()
    for left, right, certain, component, settled, entity, component_partition in links:
        group = group_of[left if left in fresh else right]
        if not certain or (component is not None and not settled):
            doubtful.add(group)
        if component is not None:
            targets[group].add((component, entity, component_partition))
    attached = []
    for group, found in targets.items():
        if group in doubtful or len(found) != 1 or decided_on.intersection(groups[group]):
            continue
        (component, entity, component_partition), = found
        if min((fresh[m], m) for m in groups[group]) > (component_partition, component):
            attached.extend((m, fresh[m], entity, component) for m in groups[group])
    con.register("_attaching", pa.table({name: pa.array([row[i] for row in attached], pa.string()) for i, name in
                                         enumerate(("mention_id", "partition", "entity_id", "component_id"))}))
    con.execute("DROP TABLE IF EXISTS _attached")
    con.execute("CREATE TEMP TABLE _attached AS SELECT * FROM _attaching")
    con.unregister("_attaching")


def link_partition(
    con: duckdb.DuckDBPyConnection,
    settings: ClusterSettings,
    tables: HubTables,
    *,
    mentions: str,
    edges: str,
    decisions: str | None = None,
    run: Run,
) -> ClusterReport:
    """Link new mentions into an existing hub, re-clustering only the components they touch.

    mentions: the new mentions (mention_id, partition); ones already in the hub are re-linked.
    edges: match edges involving them (new-vs-existing and new-within-new), as for cluster_full.
    Gives the same assignments as ``cluster_full`` on all mentions and all edges would, starting
    from the same hub. Without a hub yet (no ``tables.assignments``) it builds one.
    """
    if not table_exists(con, tables.assignments):
        return cluster_full(con, settings, tables, mentions=mentions, edges=edges, decisions=decisions, run=run)
    require_columns(con, mentions, ("mention_id", "partition"), "mentions")
    require_columns(con, edges, EDGE_COLUMNS, "edges")
    _check_endpoints(con, edges, mentions, tables.assignments)
    report = ClusterReport()
    decided = _latest_decisions(con, decisions)
    a = tables.assignments
    con.execute("DROP TABLE IF EXISTS _fresh")  # the new mentions not in the hub yet (others are re-linked)
    con.execute(f"CREATE TEMP TABLE _fresh AS SELECT DISTINCT mention_id, partition FROM {mentions} "
                f"ANTI JOIN {a} USING (mention_id)")
    con.execute("DROP TABLE IF EXISTS _new_links")
    con.execute(f"CREATE TEMP TABLE _new_links AS SELECT * FROM {edges} WHERE match_probability >= {settings.review_threshold}")
    # a stored link joins two mentions of the hub, so only an edge between re-linked mentions can be
    # one already: the million stored links are searched only when there are such edges
    if con.execute("SELECT count(*) FROM _new_links WHERE mention_id_l NOT IN (SELECT mention_id FROM _fresh) "
                   "AND mention_id_r NOT IN (SELECT mention_id FROM _fresh)").fetchall()[0][0]:
        for left, right in (("mention_id_l", "mention_id_r"), ("mention_id_r", "mention_id_l")):  # either way round
            con.execute(f"DELETE FROM _new_links e USING {tables.links} k "
                        f"WHERE k.mention_id_l = e.{left} AND k.mention_id_r = e.{right}")
    new_identical = identical_sql(con, "_new_links")
    if new_identical != "false" and identical_sql(con, tables.links) == "false":
        for table in (tables.links, tables.review):  # a hub linked before edges carried the flag
            con.execute(f"ALTER TABLE {table} ADD COLUMN {IDENTICAL} BOOLEAN DEFAULT false")
    _attach_certain(con, settings, a, decided)
    # touched: existing mentions on a new link, on a decision with a new mention, on a 'same' decision
    # the entities break or on a 'different' pair inside one component (it may be newer than the
    # component); their whole components are re-clustered
    con.execute("DROP TABLE IF EXISTS _touched")
    con.execute(f"""
        CREATE TEMP TABLE _touched AS
        WITH fresh AS (SELECT DISTINCT mention_id FROM {mentions}),
        strong AS (
          SELECT * FROM _new_links WHERE match_probability >= {settings.match_threshold}
          AND mention_id_l NOT IN (SELECT mention_id FROM _attached)
          AND mention_id_r NOT IN (SELECT mention_id FROM _attached)
        ),
        ends AS (
          SELECT mention_id_l AS mention_id FROM strong
          UNION ALL SELECT mention_id_r FROM strong
          UNION ALL SELECT mention_id FROM fresh
          UNION ALL SELECT unnest([d.a, d.b]) FROM {decided} d
            WHERE d.a IN (SELECT mention_id FROM fresh) OR d.b IN (SELECT mention_id FROM fresh)
          UNION ALL SELECT unnest([d.a, d.b]) FROM {decided} d
            JOIN {a} l ON l.mention_id = d.a JOIN {a} r ON r.mention_id = d.b
            WHERE CASE d.decision WHEN 'same' THEN l.entity_id <> r.entity_id ELSE l.component_id = r.component_id END
        )
        SELECT DISTINCT component_id FROM {a} SEMI JOIN ends USING (mention_id)""")
    # an attachment to a component the run re-clusters anyway goes with it
    con.execute("DELETE FROM _attached WHERE component_id IN (SELECT component_id FROM _touched)")
    report.attached = con.execute("SELECT count(*) FROM _attached").fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS _previous_affected")
    con.execute(f"""
        CREATE TEMP TABLE _previous_affected AS
        SELECT mention_id, partition, entity_id FROM {a} SEMI JOIN _touched USING (component_id)""")
    con.execute("DROP TABLE IF EXISTS _affected")
    con.execute(f"""
        CREATE TEMP TABLE _affected AS
        SELECT mention_id, partition FROM _previous_affected
        UNION ALL
        SELECT DISTINCT mention_id, partition FROM {mentions}
        ANTI JOIN _previous_affected USING (mention_id) ANTI JOIN _attached USING (mention_id)""")
    # every stored link with an end among them: the internal ones are clustered, all are re-queued.
    # Their evidence is fetched (by row) only for the few that end in the review queue.
    con.execute("DROP TABLE IF EXISTS _touching")
    con.execute(f"""
        CREATE TEMP TABLE _touching AS
        SELECT mention_id_l, mention_id_r, match_probability, {identical_sql(con, tables.links)} AS identical,
               rowid AS link_row FROM {tables.links}
        WHERE mention_id_l IN (SELECT mention_id FROM _affected) OR mention_id_r IN (SELECT mention_id FROM _affected)
        UNION ALL
        SELECT mention_id_l, mention_id_r, match_probability, {new_identical}, NULL FROM _new_links""")
    con.execute("DROP TABLE IF EXISTS _links")
    con.execute("""
        CREATE TEMP TABLE _links AS
        SELECT mention_id_l, mention_id_r, match_probability, identical FROM _touching
        WHERE mention_id_l IN (SELECT mention_id FROM _affected) AND mention_id_r IN (SELECT mention_id FROM _affected)""")
    _cluster_nodes(con, settings, "_affected", "_links", report)
    assigned = assign_entity_ids(con, settings.prefix, "_membership", "_previous_affected", tables.history, run,
                                 used_ids=f"SELECT entity_id FROM {a}", report=report)
    con.execute(f"DELETE FROM {a} WHERE mention_id IN (SELECT mention_id FROM _affected)")
    con.execute(f"""
        INSERT INTO {a} BY NAME
        SELECT s.mention_id, s.partition, s.entity_id, m.component_id, m.settled
        FROM {assigned} s JOIN _membership m USING (mention_id)
        UNION ALL BY NAME
        SELECT mention_id, partition, entity_id, component_id, true AS settled FROM _attached""")
    con.execute(f"DELETE FROM {tables.review} WHERE mention_id_l IN (SELECT mention_id FROM _affected) "
                f"OR mention_id_r IN (SELECT mention_id FROM _affected)")
    # the queue again for the links touched: a strong link's ends lie in one component, so in the
    # re-clustered mentions, whose new entities are at hand; only review-band links reach outside
    con.execute("DROP TABLE IF EXISTS _queued")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _touching_band AS SELECT * FROM _touching WHERE match_probability < {settings.match_threshold}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _touching_strong AS SELECT * FROM _touching WHERE match_probability >= {settings.match_threshold}")
    con.execute(f"""
        CREATE TEMP TABLE _queued AS
        SELECT * FROM ({_review_rows_sql(settings, '_touching_band', a)})
        UNION ALL
        SELECT * FROM ({_review_rows_sql(settings, '_touching_strong', '_assigned')})""")
    con.execute(f"""
        INSERT INTO {tables.review} BY NAME
        SELECT k.*, q.entity_id_l, q.entity_id_r, q.reason
        FROM {tables.links} k JOIN _queued q ON k.rowid = q.link_row
        UNION ALL BY NAME
        SELECT n.*, q.entity_id_l, q.entity_id_r, q.reason
        FROM _new_links n JOIN _queued q USING (mention_id_l, mention_id_r) WHERE q.link_row IS NULL""")
    con.execute(f"INSERT INTO {tables.links} BY NAME SELECT * FROM _new_links")
    report.mentions, report.entities = con.execute(
        "SELECT count(*), count(DISTINCT entity_id) FROM _assigned").fetchall()[0]
    report.review_pairs = con.execute(f"SELECT count(*) FROM {tables.review}").fetchall()[0][0]
    return report


def filling(out: str, append: bool) -> str:
    """The head of a statement filling table ``out`` from a SELECT: appending to it, or making it anew."""
    return f"INSERT INTO {out} BY NAME" if append else f"CREATE OR REPLACE TABLE {out} AS"


def changed_entities(con: duckdb.DuckDBPyConnection, assignments: str, *, before: str, mentions: str) -> str:
    """Temp table ``_changed_entities`` (entity_id) of what an incremental link changed: each entity
    that gained or lost a mention (``before``: mention_id, entity_id as they were), by its id
    before and after, and each that holds one of the linked ``mentions`` (a restaged record may
    carry new values). Any other entity has the same mentions with the same values as before."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _changed_entities AS
        WITH moved AS (
          SELECT a.entity_id AS now, b.entity_id AS was FROM {assignments} a
          LEFT JOIN {before} b USING (mention_id) WHERE a.entity_id IS DISTINCT FROM b.entity_id
        )
        SELECT now AS entity_id FROM moved
        UNION SELECT was FROM moved WHERE was IS NOT NULL
        UNION SELECT entity_id FROM {assignments} SEMI JOIN {mentions} USING (mention_id)""")
    return "_changed_entities"


def cross_reference(
    con: duckdb.DuckDBPyConnection, tables: HubTables, *, mentions: str, decisions: str | None = None,
    out: str | None = None, changed: str | None = None, new_links: str | None = None,
) -> str:
    """Create ``out`` (default ``<assignments>_xref``): every source record's mention (feed,
    record_key, role, mention_id) with its entity_id and why it is there: the strongest link it
    has inside its entity (linked_mention_id, match_probability, match_weight and the link's
    evidence columns, as the edges gave them), and ``decided`` when an analyst's 'same' decision
    joins it to a mention of its entity. A mention alone in its entity has no link.

    After an incremental link, given the ``changed`` entities (``changed_entities``) and
    ``new_links`` (the edges it added), only the rows that can differ are made again: those of
    every mention of a changed entity, of the new links' ends and of the mentions an analyst's
    decision names. Any other mention keeps its entity, its entity keeps its members and no link
    of it is new, so its strongest link inside is the one it had.
    """
    out = out or f"{tables.assignments}_xref"
    require_columns(con, mentions, ("mention_id", "feed", "record_key", "role"), "mentions")
    decided = _latest_decisions(con, decisions)
    evidence = [c for c, in con.execute(f"SELECT column_name FROM (DESCRIBE SELECT * FROM {tables.links})").fetchall()
                if c not in EDGE_COLUMNS]
    carried = "".join(f", {quote(c)}" for c in evidence)
    refresh = changed is not None and new_links is not None and table_exists(con, out)
    if refresh:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _xref_refresh AS
            SELECT mention_id FROM {tables.assignments} SEMI JOIN {changed} USING (entity_id)
            UNION SELECT unnest([mention_id_l, mention_id_r]) FROM {new_links}
            UNION SELECT unnest([a, b]) FROM {decided}""")
        con.execute(f"DELETE FROM {out} WHERE mention_id IN (SELECT mention_id FROM _xref_refresh)")
    scope = "SEMI JOIN _xref_refresh USING (mention_id)" if refresh else ""
    near = ("WHERE e.mention_id_l IN (SELECT mention_id FROM _xref_refresh) "
            "OR e.mention_id_r IN (SELECT mention_id FROM _xref_refresh)") if refresh else ""
    con.execute(f"""
        {filling(out, refresh)}
        WITH inside AS (
          SELECT * FROM (SELECT e.* FROM {tables.links} e {near}) e
          JOIN {tables.assignments} l ON l.mention_id = e.mention_id_l
          JOIN {tables.assignments} r ON r.mention_id = e.mention_id_r
          WHERE l.entity_id = r.entity_id
        ),
        either_end AS (
          SELECT mention_id_l AS mention_id, mention_id_r AS linked_mention_id, match_probability, match_weight{carried}
          FROM inside
          UNION ALL
          SELECT mention_id_r, mention_id_l, match_probability, match_weight{carried} FROM inside
        ),
        strongest AS (
          SELECT * FROM either_end
          QUALIFY row_number() OVER (PARTITION BY mention_id ORDER BY match_probability DESC, linked_mention_id) = 1
        ),
        by_decision AS (
          SELECT DISTINCT unnest([d.a, d.b]) AS mention_id FROM {decided} d
          JOIN {tables.assignments} l ON l.mention_id = d.a JOIN {tables.assignments} r ON r.mention_id = d.b
          WHERE d.decision = 'same' AND l.entity_id = r.entity_id
        )
        SELECT m.feed, m.record_key, m.role, a.mention_id, a.entity_id, s.linked_mention_id, s.match_probability,
               s.match_weight{"".join(f", s.{quote(c)}" for c in evidence)},
               a.mention_id IN (SELECT mention_id FROM by_decision) AS decided
        FROM {tables.assignments} a {scope} JOIN {mentions} m USING (mention_id)
        LEFT JOIN strongest s USING (mention_id)
        ORDER BY a.mention_id""")
    return out
