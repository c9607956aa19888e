"""The audit log of consultations (Data Protection Act 2018 s.62): every search and every 360 view,
who made it, in which role, when, what was asked, why, which entities were returned, from which
snapshot, and how it ended.

Store: ``<data>/audit/audit.sqlite`` (SQLite in WAL mode, one file, several service processes append to
it). Append-only three ways:

- **the store**: triggers abort any ``UPDATE`` or ``DELETE`` of an entry, whoever runs it;
- **the service**: its connection has an authoriser that allows only ``INSERT`` and ``SELECT`` (no
  update, delete, drop, alter, pragma writes), so no code path in it can change an entry, and the HTTP API
  has no verb that writes the log;
- **a hash chain**: each entry's ``hash`` is the SHA-256 of the previous entry's hash and the entry's own
  fields, so an edit made behind the store's back (triggers dropped, file edited) breaks the chain at
  that entry; ``verify`` walks it. Cutting entries off the end leaves a valid chain: compare the head
  (``head()``: last sequence number and hash) with one noted earlier.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AUDIT_FOLDER = "audit"
AUDIT_FILE = "audit.sqlite"
GENESIS = "0" * 64
FIELDS = ("seq", "at", "user", "role", "action", "kind", "query", "justification", "entity_ids", "snapshot_id",
          "status", "detail")
MAX_TEXT = 1000  # a query or justification is stored up to this many characters (longer ones are refused anyway)

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,        -- 1, 2, 3, ... with no gaps
    at TEXT NOT NULL,               -- UTC, ISO 8601 with microseconds
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,           -- search | view
    kind TEXT,                      -- person | vehicle | location (as asked)
    query TEXT NOT NULL,            -- JSON: the parameters as given
    justification TEXT,
    entity_ids TEXT NOT NULL,       -- JSON list of the entity ids returned
    snapshot_id TEXT,
    status INTEGER NOT NULL,        -- the HTTP status answered
    detail TEXT,                    -- why it was refused, when it was
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_user_at ON audit_log (user, at);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END;
"""


_INSERT = (f"INSERT INTO audit_log ({', '.join(FIELDS)}, prev_hash, hash) "
           f"VALUES ({', '.join('?' * (len(FIELDS) + 2))})")


def audit_path(data_dir: Path) -> Path:
    return Path(data_dir) / AUDIT_FOLDER / AUDIT_FILE


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's fields, in a fixed canonical JSON form."""
    body = json.dumps([entry[f] for f in FIELDS], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _clean(text: Any) -> Any:
    """Text as stored: cut to MAX_TEXT, lone surrogates escaped (SQLite takes valid UTF-8 only)."""
    if not isinstance(text, str):
        return text
    return text[:MAX_TEXT].encode("utf-8", "backslashreplace").decode("utf-8")


_ALLOWED = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_TRANSACTION,
            sqlite3.SQLITE_FUNCTION}


def _service_authoriser(action: int, arg1, arg2, dbname, source) -> int:
    """The service's connection may read and append, nothing else (the triggers' own RAISE is allowed)."""
    if action in _ALLOWED:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and arg2 is None:  # reading a pragma
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class AuditLog:
    """The service's handle on the audit store: ``record`` appends, ``entries`` and ``head`` read.
    Thread-safe; several processes may append at once (SQLite's write lock orders them)."""

    def __init__(self, data_dir: Path):
        self.path = audit_path(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        setup = sqlite3.connect(self.path, timeout=30)
        try:
            setup.execute("PRAGMA journal_mode=WAL")
            setup.executescript(SCHEMA)
        finally:
            setup.close()
        self._con = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, no fsync per entry
        self._con.execute("PRAGMA busy_timeout=30000")
        self._con.set_authorizer(_service_authoriser)
        self._lock = threading.Lock()
        # appends from several processes queue on this lock, woken as soon as it is free; SQLite's own busy
        # handler would poll with sleeps of milliseconds
        self._appending = open(self.path.with_suffix(".lock"), "a+b")  # noqa: SIM115 - held while the log is open

    def record(self, *, user: str, role: str, action: str, kind: str | None, query: dict[str, Any],
               justification: str | None, entity_ids: list[str], snapshot_id: str | None, status: int,
               detail: str | None = None) -> int:
        """Append one entry; returns its sequence number."""
        entry = {"at": datetime.now(UTC).isoformat(timespec="microseconds"), "user": _clean(user),
                 "role": role, "action": action, "kind": _clean(kind),
                 "query": json.dumps({k: _clean(v) for k, v in query.items()}, ensure_ascii=False),
                 "justification": _clean(justification), "entity_ids": json.dumps(list(entity_ids)),
                 "snapshot_id": snapshot_id, "status": int(status), "detail": _clean(detail)}
        with self._lock:
            fcntl.flock(self._appending, fcntl.LOCK_EX)
            con = self._con
            try:
                con.execute("BEGIN IMMEDIATE")  # SQLite's write lock too: the chain has one order
                try:
                    last = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                    prev_seq, prev_hash = last if last else (0, GENESIS)
                    entry["seq"] = prev_seq + 1
                    values = [entry[f] for f in FIELDS] + [prev_hash, entry_hash(prev_hash, entry)]
                    con.execute(_INSERT, values)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            finally:
                fcntl.flock(self._appending, fcntl.LOCK_UN)
        return entry["seq"]

    def entries(self, *, user: str | None = None, action: str | None = None, since: str | None = None,
                until: str | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:
        """Entries newest first, filtered (``since``/``until``: ISO times, UTC), a page at a time."""
        where, params = [], []
        for clause, value in (("user = ?", user), ("action = ?", action), ("at >= ?", since), ("at < ?", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._con.execute(f"SELECT count(*) FROM audit_log {condition}", params).fetchone()[0]
            cursor = self._con.execute(
                f"SELECT {', '.join(FIELDS)}, prev_hash, hash FROM audit_log {condition} "
                "ORDER BY seq DESC LIMIT ? OFFSET ?", [*params, page_size, (page - 1) * page_size])
            rows = cursor.fetchall()
        names = [*FIELDS, "prev_hash", "hash"]
        entries = []
        for row in rows:
            entry = dict(zip(names, row))
            entry["query"] = json.loads(entry["query"])
            entry["entity_ids"] = json.loads(entry["entity_ids"])
            entries.append(entry)
        return {"total": total, "page": page, "page_size": page_size, "entries": entries, "head": self.head()}

    def head(self) -> dict[str, Any]:
        """The last entry's sequence number and hash: note it to detect entries cut off the end later."""
        with self._lock:
            row = self._con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}

    def close(self) -> None:
        self._con.close()
        self._appending.close()


@dataclass
class Verification:
    ok: bool
    entries: int
    head: dict[str, Any]
    problems: list[str]

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.entries:,} entries, head {self.head['seq']} {self.head['hash'][:16]}..."
        return f"audit log TAMPERED: {len(self.problems)} problem(s): " + "; ".join(self.problems[:10])


def verify(path: Path, expected_head: dict[str, Any] | None = None) -> Verification:
    """Walk the hash chain of an audit store (read-only): every sequence number follows the last, every
    entry names the previous entry's hash and its own hash matches its fields. With ``expected_head``
    (a head noted earlier), also that the chain still holds that entry with that hash."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    problems: list[str] = []
    count, prev_seq, prev_hash = 0, 0, GENESIS
    seen_head = False
    try:
        cursor = con.execute(f"SELECT {', '.join(FIELDS)}, prev_hash, hash FROM audit_log ORDER BY seq")
        for row in cursor:
            entry = dict(zip([*FIELDS, "prev_hash", "hash"], row))
            count += 1
            seq = entry["seq"]
            if seq != prev_seq + 1:
                problems.append(f"entries {prev_seq + 1} to {seq - 1} are missing")
            if entry["prev_hash"] != prev_hash:
                problems.append(f"entry {seq}: does not follow entry {prev_seq} (previous hash differs)")
            if entry_hash(entry["prev_hash"], entry) != entry["hash"]:
                problems.append(f"entry {seq}: its fields were changed after it was written (hash differs)")
            if expected_head and seq == expected_head["seq"]:
                seen_head = entry["hash"] == expected_head["hash"]
            prev_seq, prev_hash = seq, entry["hash"]
    finally:
        con.close()
    if expected_head and expected_head["seq"] and not seen_head:
        problems.append(f"entry {expected_head['seq']} noted earlier is missing or changed")
    return Verification(not problems, count, {"seq": prev_seq, "hash": prev_hash}, problems)
