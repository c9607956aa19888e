"""The officer search service: an HTTP API (FastAPI) over the published snapshot, with the officer web
page, role-based access, need-to-know filtering and the audit log of every consultation.

``create_app(data_dir, users_file=None)`` builds the app; ``wmp serve`` runs it under uvicorn
(``app_from_env`` is the factory its worker processes call, the data folder passed in ``$WMP_DATA_DIR``).

Endpoints (JSON; every error is ``{"detail": "<what is wrong>"}``, bad input a 4xx, never a 500):

- ``GET /api/me``: who the token belongs to and what the role can do;
- ``GET /api/search/{kind}?q=&justification=[&dob=][&page=1][&page_size=20]``: person, vehicle or location
  search; hits from feeds the role may not see are dropped, personal fields masked;
- ``GET /api/{kind}/{entity_id}?justification=``: the 360 view as the role may see it;
- ``GET /api/audit?user=&action=&since=&until=&page=&page_size=``: the audit log (auditor, administrator);
  no verb changes it (405);
- ``GET /health``: the snapshot served (no token); ``GET /`` the web page, ``/static/...`` its files,
  ``/docs`` the OpenAPI page.

Every search and every 360 view asked by a known user leaves exactly one audit entry, whatever its
outcome (refused ones too, with their status and reason); when the entry cannot be written nothing is
shown (503). A request without a valid token (401) names no user and is not a consultation.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import duckdb
import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wmp_platform.declarations import load_declarations
from wmp_platform.search import (
    KINDS,
    MAX_QUERY_LENGTH,
    SearchError,
    json_default,
    parse_dob,
    search_location,
    search_person,
    search_vehicle,
    view,
)
from wmp_platform.service.access import (
    LINKED_FIELDS,
    SENSITIVITY_BIT,
    AccessPolicy,
    Role,
    User,
    ViewFilter,
    load_policy,
)
from wmp_platform.service.audit import AuditLog
from wmp_platform.service.served import POLL_SECONDS, ServedSnapshot, SnapshotFollower
from wmp_platform.storage import DATA_DIR_VARIABLE

log = logging.getLogger("wmp.service")
STATIC_DIR = Path(__file__).resolve().parent / "static"
FEEDS_DIR = Path(__file__).resolve().parents[2] / "assets" / "feeds"
USERS_VARIABLE = "WMP_USERS_FILE"
FEEDS_VARIABLE = "WMP_FEEDS_DIR"
MIN_JUSTIFICATION = 10
MAX_JUSTIFICATION = 500
MAX_PAGE_SIZE = 50
MAX_DEPTH = 100  # page x page_size: the search returns at most this many hits
MAX_URL_QUERY = 4096  # bytes of a raw query string; longer is refused before any parsing (414)
ENTITY_PREFIX = {"person": "P", "vehicle": "V", "location": "L"}
PLACE_AND_VEHICLE_SEARCHES = {"vehicle": search_vehicle, "location": search_location}


class JSONBody(Response):
    """JSON with dates as ISO text and non-ASCII kept (names); faster than encoding through pydantic."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=json_default, separators=(",", ":")).encode()


class Refused(Exception):
    """A request answered with an error status; ``detail`` is shown to the user."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


# --- input -----------------------------------------------------------------------------------------

_REFUSED_CATEGORIES = {
    "Cc": "a control character", "Cf": "an invisible formatting character (such as a direction override)",
    "Cs": "a lone surrogate", "Co": "a private-use character", "Cn": "an unassigned character",
    "Zl": "a line separator", "Zp": "a paragraph separator",
}


def checked_text(value: str | None, what: str, *, maximum: int, minimum: int = 1) -> str:
    """Text from a request, NFC-normalised and stripped, or Refused (400) saying what is wrong with it."""
    if value is None or not value.strip():
        raise Refused(400, f"{what}: missing; give some text")
    if len(value) > maximum * 4:  # refuse the grossly long before normalising it
        raise Refused(400, f"{what}: {len(value):,} characters; at most {maximum}")
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > maximum:
        raise Refused(400, f"{what}: {len(text):,} characters; at most {maximum}")
    for position, char in enumerate(text, 1):
        if char == "\ufffd":
            raise Refused(400, f"{what}: character {position} is not valid UTF-8 (bytes that are no text)")
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            raise Refused(400, f"{what}: character {position} (U+{ord(char):04X}) is {_REFUSED_CATEGORIES[category]}")
        if category in ("Mn", "Me"):
            raise Refused(400, f"{what}: character {position} (U+{ord(char):04X}) is a combining mark that belongs "
                          "to no letter")
    if len(text) < minimum:
        raise Refused(400, f"{what}: {len(text)} characters; at least {minimum}")
    return text


def checked_int(value: str | None, what: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    if not re.fullmatch(r"\d{1,6}", value.strip()):
        raise Refused(400, f"{what} {value[:20]!r}: a whole number from {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise Refused(400, f"{what} {number}: from {low} to {high}")
    return number


def checked_justification(value: str | None) -> str:
    if value is None or len(value.strip()) < MIN_JUSTIFICATION:
        raise Refused(400, f"a justification is required: say why you need this record (at least "
                      f"{MIN_JUSTIFICATION} characters, e.g. an incident or crime reference and the reason); "
                      "every consultation is logged with it (Data Protection Act 2018 s.62)")
    return checked_text(value, "justification", maximum=MAX_JUSTIFICATION, minimum=MIN_JUSTIFICATION)


def checked_kind(kind: str) -> str:
    if kind not in KINDS:
        raise Refused(404, f"no such kind {kind[:40]!r}: one of {', '.join(KINDS)}")
    return kind


def checked_entity_id(kind: str, entity_id: str) -> str:
    prefix = ENTITY_PREFIX[kind]
    if not re.fullmatch(rf"{prefix}-[0-9A-F]{{12}}", entity_id):
        raise Refused(400, f"{entity_id[:40]!r} is not a {kind} id: a {kind} id looks like {prefix}-1A2B3C4D5E6F")
    return entity_id


def checked_time(value: str | None, what: str) -> str | None:
    """An ISO date or time (UTC when no offset is given) as the audit log writes times."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(checked_text(value, what, maximum=40))
    except ValueError:
        raise Refused(400, f"{what} {value[:40]!r}: not a date or time; write it 2026-11-30 or 2026-11-30T14:00:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- the app ---------------------------------------------------------------------------------------

def feed_sensitivity_bits(feeds_dir: Path) -> dict[str, int]:
    """Each declared feed's sensitivity as a bit (``access.SENSITIVITY_BIT``)."""
    return {name: SENSITIVITY_BIT[feed.sensitivity] for name, feed in load_declarations(feeds_dir).items()}


class Service:
    """What the endpoints share: the access policy, the audit log, the served snapshot."""

    def __init__(self, data_dir: Path, users_file: Path | None, feeds_dir: Path, poll_seconds: float):
        self.data_dir = Path(data_dir)
        self.policy: AccessPolicy = load_policy(users_file)
        self.feed_bits = feed_sensitivity_bits(feeds_dir)
        self.audit = AuditLog(self.data_dir)
        self.follower = SnapshotFollower(self.data_dir, self.feed_bits, poll_seconds)
        self._filters: dict[tuple[str, str], ViewFilter] = {}
        self._local = threading.local()

    def cursor(self, served: ServedSnapshot) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the served snapshot, kept across requests: a new cursor would ask the
        snapshot for its id again (milliseconds under load). Closed with its connection after a move."""
        local = self._local
        if getattr(local, "served", None) is not served:
            local.cursor, local.served = served.connection.cursor(), served
        return local.cursor

    def served(self) -> ServedSnapshot:
        served = self.follower.served
        if served is None:
            raise Refused(503, f"no snapshot published yet in {self.data_dir}: nothing to search "
                          f"({self.follower.error or 'waiting for one'})")
        return served

    def view_filter(self, role: Role, served: ServedSnapshot) -> ViewFilter:
        key = (role.name, served.snapshot_id)
        found = self._filters.get(key)
        if found is None:
            if len(self._filters) > 4 * len(self.policy.roles):
                self._filters.clear()
            found = self._filters[key] = ViewFilter(role, self.feed_bits, self.policy.sections, served.sources,
                                                    served.unsourced_feeds)
        return found

    def consult(self, user: User, action: str, kind: str, query: dict[str, Any], justification: str | None,
                work: Callable[[ServedSnapshot, ViewFilter], tuple[dict[str, Any], list[str]]]) -> Response:
        """Run one search or view for a user and audit it, once, whatever happens."""
        status, detail, body, entity_ids, snapshot_id, headers = 200, None, None, [], None, None
        try:
            if not user.role.can_search:
                raise Refused(403, f"role {user.role.name} may not search or view records")
            checked_kind(kind)
            justification = checked_justification(justification)
            for attempt in range(2):
                served = self.served()
                snapshot_id = served.snapshot_id
                try:
                    body, entity_ids = work(served, self.view_filter(user.role, served))
                    break
                except duckdb.ConnectionException:
                    # the connection was closed by two snapshot moves during this request: once more, on the newest
                    self._local.served = None
                    if attempt:
                        raise Refused(503, "the snapshot changed twice during the request; try again") from None
        except Refused as refused:
            status, detail, headers = refused.status, refused.detail, refused.headers
        except SearchError as error:
            status, detail = 400, str(error)
        except Exception:  # audited and answered: never a raw 500 with a trace
            log.exception("%s %s failed", action, kind)
            status, detail = 500, "the service failed on this request; it was logged"
        try:
            self.audit.record(user=user.name, role=user.role.name, action=action, kind=kind, query=query,
                              justification=justification, entity_ids=entity_ids, snapshot_id=snapshot_id,
                              status=status, detail=detail)
        except Exception:
            log.exception("audit entry not written")
            return JSONBody({"detail": "the audit log could not be written, so nothing is shown; "
                                       "tell the service's administrator"}, status_code=503)
        if status != 200:
            return JSONBody({"detail": detail}, status_code=status, headers=headers)
        return JSONBody(body)

    def search(self, served: ServedSnapshot, rule: ViewFilter, kind: str, text: str, dob: date | None, page: int,
               page_size: int) -> tuple[dict[str, Any], list[str]]:
        everything = rule.sees_everything
        # a role that may not see every hit asks for the deepest page allowed, so pages stay stable after filtering
        limit = page * page_size if everything else MAX_DEPTH
        options = {"limit": limit, "views": 0, "feeds": rule.visible_feeds}
        cursor = self.cursor(served)
        if kind == "person":
            result = search_person(cursor, text, dob, **options)
        else:
            result = PLACE_AND_VEHICLE_SEARCHES[kind](cursor, text, **options)
        hits = result.hits
        sources = served.sources
        start = (page - 1) * page_size
        fields, counts, found = {}, {}, len(hits)
        if everything:
            page_hits = hits[start:start + page_size]
        elif hits:
            at = sources.positions(kind, [h.entity_id for h in hits])
            shown = np.flatnonzero(sources.entities_visible(kind, [], rule.sees, at))
            page_rows = shown[start:start + page_size]
            page_hits, at = [hits[i] for i in page_rows], at[page_rows]
            if page_hits:
                fields = {f: sources.visible(kind, [], f, rule.sees, at)
                          for f in LINKED_FIELDS[kind] if f in page_hits[0].summary}
                counts = {c: v for c, v in sources.visible_counts(kind, at, rule.sees).items()
                          if c in page_hits[0].summary}
            found = len(shown)
        else:
            page_hits = []
        out = [{"entity_id": h.entity_id, "score": h.score, "matched": h.matched,
                "summary": rule.summary({**h.summary, **{c: v[i] for c, v in counts.items()}},
                                        {f: v[i] for f, v in fields.items()})}
               for i, h in enumerate(page_hits)]
        body = {"kind": kind, "query": result.query, "snapshot_id": result.snapshot_id, "page": page,
                "page_size": page_size, "more": found > start + page_size, "hits": out,
                "elapsed_ms": result.elapsed_ms}
        return body, [h["entity_id"] for h in out]

    def view(self, served: ServedSnapshot, rule: ViewFilter, kind: str, entity_id: str) -> tuple[dict[str, Any], list[str]]:
        found = view(self.cursor(served), kind, entity_id)
        if found is None or not served.sources.entities_visible(kind, [entity_id], rule.sees)[0]:
            # an entity the role may not see is answered as one that does not exist
            raise Refused(404, f"no {kind} {entity_id} in snapshot {served.snapshot_id}")
        return ({"kind": kind, "entity_id": entity_id, "snapshot_id": served.snapshot_id,
                 "view": rule.view(kind, found)}, [entity_id])


_bearer = HTTPBearer(auto_error=False, description="A token from users.yaml (demo: demo-response-token, ...)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def create_app(data_dir: Path, users_file: Path | None = None, *, feeds_dir: Path | None = None,
               poll_seconds: float = POLL_SECONDS) -> FastAPI:
    """The service over the data folder's published snapshots; users from ``users_file`` (default: the
    embedded demo users), feed sensitivities from the feed declarations in ``feeds_dir``."""
    service = Service(Path(data_dir), users_file, Path(feeds_dir or os.environ.get(FEEDS_VARIABLE) or FEEDS_DIR),
                      poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.follower.start()
        try:
            yield
        finally:
            service.follower.stop()
            service.audit.close()

    app = FastAPI(title="wmp-platform officer search", version="1", lifespan=lifespan,
                  description="Search people, vehicles and places in the published snapshot and open their 360 "
                  "views. Every search and view needs a justification and is recorded in the audit log "
                  "(Data Protection Act 2018 s.62).")
    app.state.service = service

    def user_of(credentials: HTTPAuthorizationCredentials | None) -> User:
        if credentials is None:
            raise Refused(401, "a token is required: send the header 'Authorization: Bearer <token>'",
                          {"WWW-Authenticate": "Bearer"})
        user = service.policy.user_for(credentials.credentials)
        if user is None:
            raise Refused(401, "this token is not known (mistyped, or withdrawn)", {"WWW-Authenticate": "Bearer"})
        return user

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return JSONBody({"detail": error.detail}, status_code=error.status, headers=error.headers)

    @app.exception_handler(SearchError)
    async def bad_search(request: Request, error: SearchError) -> Response:
        return JSONBody({"detail": str(error)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors())
        return JSONBody({"detail": f"bad request: {problems}"}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        detail = error.detail
        path = request.url.path[:100]
        if error.status_code == 405 and path.rstrip("/").startswith("/api/audit"):
            detail = "the audit log is append-only: it can be read (GET) and never changed or deleted"
        elif error.status_code == 405:
            detail = f"{request.method} is not allowed on {path!r}"
        elif error.status_code == 404 and detail == "Not Found":
            detail = f"nothing at {path!r}: see /docs for the API"
        return JSONBody({"detail": detail}, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return JSONBody({"detail": "the service failed on this request; it was logged"}, status_code=500)

    @app.get("/health", tags=["service"])
    def health() -> Response:
        described = service.follower.describe()
        ok = described["snapshot_id"] is not None
        return JSONBody({"status": "ok" if ok else "no snapshot", **described}, status_code=200 if ok else 503)

    @app.get("/api/me", tags=["service"])
    def me(credentials: Credentials = None) -> Response:
        user = user_of(credentials)
        return JSONBody({"user": user.name, "role": user.role.name, "description": user.role.description,
                         "can": user.role.can()})

    @app.get("/api/search/{kind}", tags=["search"])
    def search(kind: str, q: str | None = None, justification: str | None = None, dob: str | None = None,
               page: str | None = None, page_size: str | None = None,
               credentials: Credentials = None) -> Response:
        """Search people (name, with typos, nicknames and initials, and date of birth; or PNC ID, CRO number,
        NI number, phone), vehicles (registration) or places (postcode, UPRN, address). A justification
        (at least 10 characters) is required and logged."""
        user = user_of(credentials)
        query = {"q": q, "dob": dob, "page": page, "page_size": page_size}

        def work(served: ServedSnapshot, rule: ViewFilter) -> tuple[dict[str, Any], list[str]]:
            text = checked_text(q, "q (what to search for)", maximum=MAX_QUERY_LENGTH)
            day = parse_dob(checked_text(dob, "dob", maximum=20)) if dob else None
            number = checked_int(page, "page", 1, 1, MAX_DEPTH)
            size = checked_int(page_size, "page_size", 20, 1, MAX_PAGE_SIZE)
            if number * size > MAX_DEPTH:
                raise Refused(400, f"page {number} of {size}: a search returns at most {MAX_DEPTH} hits; "
                              "narrow the search instead")
            return service.search(served, rule, kind, text, day, number, size)

        return service.consult(user, "search", kind, query, justification, work)

    @app.api_route("/api/audit", methods=["POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @app.api_route("/api/audit/{anything:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def audit_is_append_only(anything: str = "") -> Response:
        return JSONBody({"detail": "the audit log is append-only: it can be read (GET /api/audit) and never "
                         "changed or deleted"}, status_code=405, headers={"Allow": "GET"})

    @app.get("/api/audit", tags=["audit"])
    def audit(user: str | None = None, action: str | None = None, since: str | None = None,
              until: str | None = None, page: str | None = None, page_size: str | None = None,
              credentials: Credentials = None) -> Response:
        """The audit log, newest first (auditor and administrator only). ``since``/``until``: ISO dates or
        times (UTC unless an offset is given). ``head`` is the last entry's number and hash."""
        reader = user_of(credentials)
        if not reader.role.can_audit:
            raise Refused(403, f"role {reader.role.name} may not read the audit log")
        if action is not None and action not in ("search", "view"):
            raise Refused(400, f"action {action[:20]!r}: search or view")
        return JSONBody(service.audit.entries(
            user=checked_text(user, "user", maximum=100) if user else None, action=action,
            since=checked_time(since, "since"), until=checked_time(until, "until"),
            page=checked_int(page, "page", 1, 1, 1_000_000), page_size=checked_int(page_size, "page_size", 50, 1, 500)))

    @app.get("/api/{kind}/{entity_id}", tags=["search"])
    def entity_view(kind: str, entity_id: str, justification: str | None = None,
                    credentials: Credentials = None) -> Response:
        """The 360 view of a person, vehicle or place, as the role may see it (sections, need-to-know
        by feed sensitivity, masked fields; ``withheld`` lists what was removed). Logged with its
        justification."""
        user = user_of(credentials)

        def work(served: ServedSnapshot, rule: ViewFilter) -> tuple[dict[str, Any], list[str]]:
            return service.view(served, rule, kind, checked_entity_id(kind, entity_id))

        return service.consult(user, "view", kind, {"entity_id": entity_id}, justification, work)

    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise Refused(404, "the web page is not installed (static/index.html)")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_middleware(GuardedRequests)
    return app


class GuardedRequests:
    """ASGI wrapper: refuses an over-long query string before anything parses it (414), and marks API
    answers as not to be cached (they hold personal data). Plain ASGI: no per-request task switching."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > MAX_URL_QUERY:
            body = json.dumps({"detail": f"the query string is longer than {MAX_URL_QUERY} bytes"}).encode()
            await send({"type": "http.response.start", "status": 414,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        api = scope.get("path", "").startswith("/api/")

        async def marked(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, marked)


def app_from_env() -> Any:
    """The app for ``uvicorn --factory`` (each worker process of ``wmp serve --workers N``): data folder from
    ``$WMP_DATA_DIR``, users from ``$WMP_USERS_FILE`` when set."""
    from wmp_platform.storage import default_data_dir

    users = os.environ.get(USERS_VARIABLE)
    return create_app(default_data_dir(), Path(users) if users else None)


__all__ = ["DATA_DIR_VARIABLE", "USERS_VARIABLE", "app_from_env", "create_app"]
