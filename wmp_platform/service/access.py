"""Who may do what: users and their tokens (``users.yaml``), roles (``roles.yaml``), and what a role
sees of a 360 view or a search hit (need-to-know by feed sensitivity, sections, masked fields).

Both files are read once when the service starts; a request costs a dictionary look-up of its
token's SHA-256 and, for a view, one pass over the view's JSON.

Need-to-know: each feed declares a ``sensitivity`` (official, official_sensitive, restricted).
An item of a view (event, warning, alias, identifier, address, registration, sighting) carries the
feed(s) it came from; it is kept when one of them is of a sensitivity the role sees, and its
``feeds`` list is cut to those. A golden field whose ``<field>_source`` feed is hidden is withheld,
and so is a linked entity's field (a keeper's name, a place's address) taken from a hidden feed
(``SnapshotSources`` knows each entity's sources). Lists the hub builds without a feed (a person's
places and vehicles, a vehicle's keepers, a place's people) are shown only to roles that see every
feed they are built from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SERVICE_DIR = Path(__file__).resolve().parent
ROLES_FILE = SERVICE_DIR / "roles.yaml"
USERS_FILE = SERVICE_DIR / "users.yaml"
SENSITIVITIES = ("official", "official_sensitive", "restricted")
SENSITIVITY_BIT = {name: 1 << i for i, name in enumerate(SENSITIVITIES)}
UNKNOWN_FEED_BIT = SENSITIVITY_BIT["restricted"]  # a feed no declaration names: treated as restricted
SECTIONS = ("identity", "warnings", "vehicles", "events", "relationships", "places")
MASKS = ("withhold", "last3", "year")
KINDS = ("person", "vehicle", "location")
# lists the hub builds from POLE links without naming the feed of each item
UNSOURCED_LISTS = {"person": ("places", "vehicles"), "vehicle": ("keepers",), "location": ("people",)}
# a field of a search summary or a linked item -> the golden field whose mask applies
MASKED_AS = {"golden_dob": "dob"}


class AccessConfigError(ValueError):
    """roles.yaml or users.yaml is wrong: the message names the file and the field."""


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    can_search: bool
    can_audit: bool
    sensitivities: frozenset[str]
    sections: frozenset[str]
    masks: dict[str, str]

    @property
    def sees(self) -> int:
        """The sensitivities the role sees, as bits (``SENSITIVITY_BIT``)."""
        return sum(SENSITIVITY_BIT[s] for s in self.sensitivities)

    def can(self) -> list[str]:
        """What the role can do, for ``/api/me`` and the web page."""
        return ((["search"] if self.can_search else []) + (["audit"] if self.can_audit else [])
                + [s for s in SECTIONS if s in self.sections]
                + [f"sensitivity:{s}" for s in SENSITIVITIES if s in self.sensitivities])


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass
class AccessPolicy:
    """The roles, the users by token hash, and the sections of each kind of view."""

    roles: dict[str, Role]
    sections: dict[str, dict[str, str]]  # kind -> view key -> section
    users: dict[str, User] = field(default_factory=dict)  # SHA-256 hex of the token -> user

    def user_for(self, token: str) -> User | None:
        # looked up by the token's hash: the time taken says nothing about the token itself
        return self.users.get(token_digest(token))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _read_yaml(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AccessConfigError(f"{path}: cannot read: {error}") from None
    if not isinstance(document, dict):
        raise AccessConfigError(f"{path}: expected a mapping at the top level")
    return document


def load_roles(path: Path = ROLES_FILE) -> tuple[dict[str, Role], dict[str, dict[str, str]]]:
    """Roles and the sections of each kind of 360 view; errors name the file and the field."""
    document = _read_yaml(path)
    roles = {}
    for name, spec in (document.get("roles") or {}).items():
        where = f"{path}: roles.{name}"
        if not isinstance(spec, dict):
            raise AccessConfigError(f"{where}: expected a mapping")
        unknown = set(spec) - {"description", "can_search", "can_audit", "sensitivities", "sections", "masks"}
        if unknown:
            raise AccessConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
        for key, allowed in (("sensitivities", SENSITIVITIES), ("sections", SECTIONS)):
            wrong = set(spec.get(key) or []) - set(allowed)
            if wrong:
                raise AccessConfigError(f"{where}.{key}: {sorted(wrong)} not one of {', '.join(allowed)}")
        masks = spec.get("masks") or {}
        wrong = {f: m for f, m in masks.items() if m not in MASKS}
        if wrong:
            raise AccessConfigError(f"{where}.masks: {wrong}: a mask is one of {', '.join(MASKS)}")
        roles[name] = Role(name, str(spec.get("description", "")), bool(spec.get("can_search", False)),
                           bool(spec.get("can_audit", False)), frozenset(spec.get("sensitivities") or []),
                           frozenset(spec.get("sections") or []), dict(masks))
    if not roles:
        raise AccessConfigError(f"{path}: no roles defined")
    sections: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
    for kind, by_section in (document.get("sections") or {}).items():
        if kind not in KINDS:
            raise AccessConfigError(f"{path}: sections.{kind}: not one of {', '.join(KINDS)}")
        for section, keys in (by_section or {}).items():
            if section not in SECTIONS:
                raise AccessConfigError(f"{path}: sections.{kind}.{section}: not one of {', '.join(SECTIONS)}")
            for key in keys or []:
                sections[kind][key] = section
    return roles, sections


def load_policy(users_file: Path | None = None, roles_file: Path = ROLES_FILE) -> AccessPolicy:
    """The policy from roles.yaml and a users file (default: the embedded demo users)."""
    roles, sections = load_roles(roles_file)
    path = users_file or USERS_FILE
    document = _read_yaml(path)
    users = {}
    for i, entry in enumerate(document.get("users") or []):
        where = f"{path}: users.{i}"
        if not isinstance(entry, dict) or not {"user", "role", "token_sha256"} <= set(entry):
            raise AccessConfigError(f"{where}: needs user, role and token_sha256")
        if entry["role"] not in roles:
            raise AccessConfigError(f"{where}: role {entry['role']!r} is not in {roles_file.name} ({', '.join(roles)})")
        digest = str(entry["token_sha256"]).lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise AccessConfigError(f"{where}: token_sha256 is not a SHA-256 in hex (64 characters)")
        if digest in users:
            raise AccessConfigError(f"{where}: the same token as user {users[digest].name!r}")
        users[digest] = User(str(entry["user"]), roles[entry["role"]])
    if not users:
        raise AccessConfigError(f"{path}: no users defined")
    return AccessPolicy(roles, sections, users)


# --- what a role sees ------------------------------------------------------------------------------

def mask_value(value: Any, mask: str) -> Any:
    if value is None:
        return None
    if mask == "withhold":
        return None
    text = str(value)
    if mask == "last3":
        return "*" * max(len(text) - 3, 0) + text[-3:]
    return text[:4]  # year: "1982-10-17" -> "1982"


class ViewFilter:
    """A role's reading of one snapshot: which feeds it sees, and the sources of linked entities."""

    def __init__(self, role: Role, feed_bits: dict[str, int], sections: dict[str, dict[str, str]],
                 sources: Any, unsourced_feeds: dict[str, set[str]]):
        self.role = role
        self.sees = role.sees
        self.feed_bits = feed_bits
        self.sections = sections
        self.sources = sources  # SnapshotSources: visible(kind, ids, field) for linked entities
        # an unsourced list is shown only when the role sees every feed it is built from
        self.unsourced_ok = {kind: all(self._feed_visible(f) for f in unsourced_feeds.get(kind, ()))
                             for kind in KINDS}
        # whether the role sees every feed (and any feed no declaration names): then nothing needs filtering
        self.sees_everything = all(bit & self.sees for bit in {*feed_bits.values(), UNKNOWN_FEED_BIT})
        # else the feeds a search may match on: a name, date or number only a hidden feed holds finds nothing
        self.visible_feeds = None if self.sees_everything else sorted(
            f for f in set(feed_bits) | set(sources.feed_names) if self._feed_visible(f))

    def _feed_visible(self, feed: str | None) -> bool:
        return feed is None or bool(self.feed_bits.get(feed, UNKNOWN_FEED_BIT) & self.sees)

    def view(self, kind: str, view: dict[str, Any]) -> dict[str, Any]:
        """The view as the role may see it: sections removed, items from hidden feeds dropped, fields
        from hidden sources withheld, masks applied, counts made over what the role sees. ``withheld``
        lists what was removed or emptied, ``masked`` the fields the role sees masked wherever they appear."""
        sections = self.sections[kind]
        shown: dict[str, Any] = {}
        withheld: list[str] = []
        for key, value in view.items():
            section = sections.get(key)
            if section is None and isinstance(value, list) and key != "feeds":
                withheld.append(key)  # a list without a section: hidden from every role
                continue
            if (section or "identity") not in self.role.sections:
                withheld.append(key)
                continue
            if key.endswith("_source") or key == "feeds":
                continue  # settled with the field they describe, below
            if isinstance(value, list) and key in sections:
                if key in UNSOURCED_LISTS[kind] and not self.unsourced_ok[kind]:
                    withheld.append(key)
                    continue
                value = self._items(value)
            elif key not in sections:  # a field of the record itself
                source = view.get(f"{key}_source", view.get(_SHARED_SOURCE.get(key, ""), None))
                if not self._feed_visible(source):
                    withheld.append(key)
                    value = None
            shown[key] = self._mask(key, value)
        if "identity" in self.role.sections:
            for key, value in view.items():
                if key.endswith("_source"):
                    shown[key] = value if self._feed_visible(value) else None
            if isinstance(view.get("feeds"), list):
                shown["feeds"] = [f for f in view["feeds"] if self._feed_visible(f)]
        self._mask_linked(kind, shown)
        if not self.sees_everything:
            self._recount(view, shown, withheld)
        shown["withheld"] = withheld
        shown["masked"] = sorted(self.role.masks)
        return shown

    @staticmethod
    def _recount(view: dict[str, Any], shown: dict[str, Any], withheld: list[str]) -> None:
        """Counts of a view's records and lists, over those the role sees: a total that counted hidden
        records would tell of them."""
        if "records_by_feed" in shown:  # the entity's records per feed, those of hidden feeds already dropped
            seen = shown["records_by_feed"]
            for key, value in (("mentions", sum(r["mentions"] for r in seen)),
                               ("first_seen", min((r["first_seen"] for r in seen if r["first_seen"]), default=None)),
                               ("last_seen", max((r["last_seen"] for r in seen if r["last_seen"]), default=None))):
                if key in shown:
                    shown[key] = value
        if "active_warnings" in shown and "warnings" in shown:
            shown["active_warnings"] = sum(1 for w in shown["warnings"] if w.get("active"))
        if "events_total" in shown and "event_counts" in shown:
            shown["events_total"] = sum(c["events"] for c in shown["event_counts"])
        if "sightings_total" in shown and "sightings" in shown:
            if view["sightings_total"] == len(view.get("sightings") or []):
                shown["sightings_total"] = len(shown["sightings"])
            else:  # the view keeps the latest 100 sightings: the visible total is not known
                shown["sightings_total"] = None
                withheld.append("sightings_total")

    def _items(self, items: list) -> list:
        kept = []
        for item in items:
            if not isinstance(item, dict):
                kept.append(item)
                continue
            if "feed" in item and not self._feed_visible(item["feed"]):
                continue
            if isinstance(item.get("feeds"), list):
                feeds = [f for f in item["feeds"] if self._feed_visible(f)]
                if not feeds:
                    continue
                if len(feeds) < len(item["feeds"]):  # its counts and dates include records of hidden feeds
                    item = {**item, **{k: None for k in ITEM_COUNTS if k in item}}
                item = {**item, "feeds": feeds}
            kept.append(self._mask_item(item))
        return kept

    def _mask_item(self, item: dict) -> dict:
        masks = self.role.masks
        if not masks:
            return item
        item = dict(item)
        for key in item:
            if key in masks:
                item[key] = mask_value(item[key], masks[key])
        if item.get("attribute") in masks and "value" in item:  # an identifiers entry: attribute, value
            item["value"] = mask_value(item["value"], masks[item["attribute"]])
        return item

    def _mask(self, key: str, value: Any) -> Any:
        mask = self.role.masks.get(MASKED_AS.get(key, key))
        return mask_value(value, mask) if mask and not isinstance(value, list) else value

    def _mask_linked(self, kind: str, shown: dict[str, Any]) -> None:
        """Fields of linked entities (a keeper's name, a place's address) taken from hidden feeds."""
        for key, linked_kind, id_key in LINKED_LISTS.get(kind, ()):
            items = shown.get(key)
            if not items:
                continue
            ids = [item.get(id_key) for item in items]
            for name in LINKED_FIELDS[linked_kind]:
                if not any(name in item for item in items):
                    continue
                visible = self.sources.visible(linked_kind, ids, name, self.sees)
                for item, ok in zip(items, visible):
                    if not ok and name in item:
                        item[name] = None

    def summary(self, summary: dict[str, Any], visible_fields: dict[str, bool]) -> dict:
        """A search hit's summary: fields from hidden feeds (``visible_fields`` false) withheld, masks applied."""
        shown = {}
        for key, value in summary.items():
            if not visible_fields.get(key, True):
                value = None
            shown[key] = self._mask(key, value)
        return shown


# an item's figures over all its records: withheld when some of its feeds are hidden
ITEM_COUNTS = ("mentions", "first_seen", "last_seen")
# golden fields whose source is recorded under another field's name
_SHARED_SOURCE = {"forename": "surname_source", "postcode": "address_source", "longitude": "latitude_source"}
# lists of a view that link to other entities: (list, kind of the linked entity, id field)
LINKED_LISTS = {
    "person": (("places", "location", "location_entity_id"), ("vehicles", "vehicle", "vehicle_entity_id")),
    "vehicle": (("keepers", "person", "person_entity_id"), ("sightings", "location", "location_entity_id")),
    "location": (("people", "person", "person_entity_id"),),
}
# fields of linked items (and search summaries) -> the golden source column they come from, by kind
LINKED_FIELDS = {
    "person": {"forename": "surname_source", "surname": "surname_source", "golden_name": "surname_source",
               "dob": "dob_source", "golden_dob": "dob_source", "pnc_id": "pnc_id_source",
               "postcode": "address_source"},
    "vehicle": {"registration": "registration_source", "current_registration": "registration_source",
                "make": "make_source", "model": "model_source", "colour": "colour_source"},
    "location": {"address": "address_source", "postcode": "address_source", "current_postcode": "address_source",
                 "uprn": "uprn_source", "current_uprn": "uprn_source", "latitude": "latitude_source",
                 "longitude": "latitude_source"},
}
