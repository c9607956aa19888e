"""How right a matching is: precision, recall and F1 against ground truth, in DuckDB.

Two views of the same question, both counted over pairs of mentions:

- **cluster**: the pairs a clustering puts together (every two mentions in one cluster)
  against the pairs that are truly the same entity. Counted without listing the pairs: a
  cluster of n holds n(n-1)/2, so a million mentions score in well under a second.
- **pairwise**: the scored edges at or above a threshold against the true pairs; its recall
  is bounded by blocking (pairs never compared are never found).

Mentions in the truth but absent from a clustering count as clusters of their own; mentions
absent from the truth are left out (nothing to score them against).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from wmp_platform.ingest import connect
from wmp_platform.sql import quote, sql_literal
from wmp_platform.storage import DataLayout

Table = pa.Table | str | Path | duckdb.DuckDBPyRelation


@dataclass(frozen=True)
class Accuracy:
    """Pair counts and the measures made from them."""

    true_positives: int  # pairs put together that are truly together
    predicted_pairs: int
    true_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}

    def __str__(self) -> str:
        return (f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}"
                f"  ({self.true_positives:,} of {self.predicted_pairs:,} predicted pairs true; {self.true_pairs:,} true pairs)")


def _relation(con: duckdb.DuckDBPyConnection, name: str, table: Table) -> str:
    if isinstance(table, (str, Path)):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet({sql_literal(str(table))})")
    else:
        con.register(name, table.to_arrow_table() if isinstance(table, duckdb.DuckDBPyRelation) else table)
    return name


def _pairs(n: str) -> str:
    return f"coalesce(sum({n} * ({n} - 1) // 2), 0)::BIGINT"


def cluster_accuracy(clusters: Table, truth: Table, *, cluster_column: str = "cluster_id",
                     truth_column: str = "truth_id") -> Accuracy:
    """Pairs put together by ``clusters`` (mention_id, cluster_column) against ``truth``
    (mention_id, truth_column)."""
    with connect() as con:
        _relation(con, "clusters", clusters)
        _relation(con, "truth", truth)
        tp, predicted, actual = con.execute(f"""
            WITH assigned AS (
              SELECT t.mention_id, t.{quote(truth_column)} AS truth_id,
                     coalesce(CAST(c.{quote(cluster_column)} AS VARCHAR), 'mention:' || t.mention_id) AS cluster_id
              FROM truth t LEFT JOIN clusters c USING (mention_id)
            ),
            cells AS (SELECT cluster_id, truth_id, count(*) AS n FROM assigned GROUP BY ALL),
            by_cluster AS (SELECT sum(n) AS n FROM cells GROUP BY cluster_id),
            by_truth AS (SELECT sum(n) AS n FROM cells GROUP BY truth_id)
            SELECT (SELECT {_pairs('n')} FROM cells), (SELECT {_pairs('n')} FROM by_cluster),
                   (SELECT {_pairs('n')} FROM by_truth)""").fetchone()
    return Accuracy(tp, predicted, actual)


def pairwise_accuracy(edges: Table, truth: Table, threshold: float = 0.5, *,
                      truth_column: str = "truth_id") -> Accuracy:
    """Edges (mention_id_l, mention_id_r, match_probability) at or above ``threshold`` against
    the true pairs among the mentions in ``truth``."""
    with connect() as con:
        _relation(con, "edges", edges)
        _relation(con, "truth", truth)
        tp, predicted, actual = con.execute(f"""
            WITH kept AS (
              SELECT DISTINCT least(mention_id_l, mention_id_r) AS l, greatest(mention_id_l, mention_id_r) AS r
              FROM edges WHERE match_probability >= {float(threshold)!r}
            ),
            judged AS (
              SELECT tl.{quote(truth_column)} = tr.{quote(truth_column)} AS same
              FROM kept JOIN truth tl ON tl.mention_id = kept.l JOIN truth tr ON tr.mention_id = kept.r
            ),
            by_truth AS (SELECT count(*) AS n FROM truth GROUP BY {quote(truth_column)})
            SELECT count(*) FILTER (WHERE same), count(*), (SELECT {_pairs('n')} FROM by_truth) FROM judged""").fetchone()
    return Accuracy(tp, predicted, actual)


def estate_truth(layout: DataLayout, kind: str = "person") -> pa.Table:
    """The synthetic estate's ground truth as (mention_id, truth_id) for ``kind``; for scoring only,
    never for matching. mention_id is built as in ``mentions``: feed|record_key|role."""
    path = layout.ground_truth / f"{kind}s.parquet"
    with connect() as con:
        return con.sql(
            f"SELECT feed || '|' || record_key || '|' || role AS mention_id, {quote(kind + '_id')} AS truth_id "
            f"FROM read_parquet({sql_literal(str(path))})"
        ).to_arrow_table()
