// The officer search page: sign in with a token, search people, vehicles and places, open a 360 view.
// Every value from the service is put on the page with textContent or DOM nodes, never parsed as
// markup, so a name or query holding "<script>" shows as text and runs nothing.
"use strict";

const TOKEN_KEY = "wmp.token"; // sessionStorage: gone when the tab closes
const SHOWN_ITEMS = 20; // items of a long list shown before "Show all"

const KINDS = {
  person: {
    label: "Name, PNC ID, CRO, NI number or phone",
    placeholder: "e.g. Jon Smith, or Smith, Jon",
    capitalise: "words",
  },
  vehicle: { label: "Registration", placeholder: "e.g. AB12 CDE", capitalise: "characters" },
  location: { label: "Address, postcode or UPRN", placeholder: "e.g. 14 Elm Road, B1 1AA", capitalise: "words" },
};
// 360-view keys that name another entity: they open that entity's view
const LINKED_KINDS = { person_entity_id: "person", vehicle_entity_id: "vehicle", location_entity_id: "location" };
// the service's "last3" mask: "*****169" (search summaries carry no list of masked fields)
const PARTLY_MASKED = /^\*{2,}[^*]{0,3}$/;
const PLAIN_LISTS = new Set(["feeds", "roles", "withheld", "masked"]); // lists of values, not sections
const NOTHING_HELD = { withheld: new Set(), masked: new Set() };

const state = { token: null, me: null, search: null, audit: null, requests: 0 };

const $ = (id) => document.getElementById(id);

// --- the service ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function detailText(detail, status) {
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail)) {
    // request validation: [{loc: ["query", "page"], msg: "..."}]
    return detail
      .map((d) => (d && d.msg ? `${Array.isArray(d.loc) ? d.loc.filter((l) => l !== "query").join(" ") + ": " : ""}${d.msg}` : String(d)))
      .join("; ");
  }
  return `the service answered ${status}`;
}

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const url = query.toString() ? `${path}?${query}` : path;
  let response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" },
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, `The service could not be reached (${err.message}).`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, detailText(body && body.detail, response.status));
  return body;
}

// --- small DOM builders --------------------------------------------------------------------------

function el(tag, options, children) {
  const node = document.createElement(tag);
  const o = options || {};
  if (o.className) node.className = o.className;
  if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
  for (const [name, value] of Object.entries(o.attrs || {})) node.setAttribute(name, value);
  for (const child of children || []) if (child) node.append(child);
  return node;
}

function humanise(key) {
  const words = String(key).replace(/_/g, " ").trim();
  const text = words.replace(/\bdob\b/i, "date of birth").replace(/\bpnc\b/i, "PNC").replace(/\bcro\b/i, "CRO")
    .replace(/\bni\b/i, "NI").replace(/\buprn\b/i, "UPRN").replace(/\bid\b/i, "ID");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isMasked(value) {
  return typeof value === "string" && PARTLY_MASKED.test(value);
}

function isEmpty(value) {
  return value === null || value === undefined || value === "";
}

function plainText(value) {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.map(plainText).join(", ");
  // numbers as given: a UPRN or a coordinate must not gain separators or lose digits
  return String(value);
}

// A masked value as the service masked it ("*****169", a date of birth's year)
function maskedNode(value) {
  return el("span", { className: "masked", text: plainText(value), attrs: { title: "Masked for your role" } });
}

// A value not given to the role at all: `word` says why (masked, withheld)
function heldNode(word) {
  return el("span", { className: "masked", text: word, attrs: { title: "Not shown for your role" } });
}

// What the service held back from the role: `withheld` (keys removed or emptied) and `masked` (fields
// masked wherever they appear); both are shown for what they are, so a partial picture reads as one.
function heldBack(view) {
  const set = (value) => new Set(Array.isArray(value) ? value : []);
  return { withheld: set(view.withheld), masked: set(view.masked) };
}

function isSection(key, value) {
  return Array.isArray(value) && !PLAIN_LISTS.has(key) && (value.length === 0 || !isPlain(value));
}

function valueNode(key, value) {
  if (isMasked(value)) return maskedNode(value);
  const linked = LINKED_KINDS[key];
  if (linked && typeof value === "string" && value) {
    return el("button", { className: "link", text: value, attrs: { type: "button", "aria-label": `Open ${linked} ${value}` } });
  }
  return el("span", { text: plainText(value) });
}

function wireLink(button, kind, entityId) {
  button.addEventListener("click", () => openView(kind, entityId));
}

// A definition list of the plain fields of an object; `sources` adds where each value came from; fields
// the service masked or withheld (`held`) are marked, not left out.
function fieldList(record, sources, held) {
  const list = el("dl", { className: "fields" });
  for (const [key, value] of Object.entries(record)) {
    const empty = isEmpty(value) || (Array.isArray(value) && value.length === 0);
    // an identifiers entry is masked by its attribute: {attribute: "ni_number", value: "*****55C"}
    const masked = held.masked.has(key) || (key === "value" && held.masked.has(record.attribute));
    const withheld = held.withheld.has(key);
    if (empty && !masked && !withheld) continue;
    const cell = el("dd");
    let node;
    if (empty) node = heldNode(withheld ? "withheld" : "masked");
    else if (masked || isMasked(value)) node = maskedNode(value);
    else node = valueNode(key, value);
    if (node.tagName === "BUTTON") wireLink(node, LINKED_KINDS[key], value);
    cell.append(node);
    if (!empty && sources[key] && !masked) cell.append(el("span", { className: "source", text: ` (${sources[key]})` }));
    list.append(el("dt", { text: humanise(key) }), cell);
  }
  return list;
}

function isPlain(value) {
  return isMasked(value) || value === null || typeof value !== "object"
    || (Array.isArray(value) && value.every((v) => v === null || typeof v !== "object"));
}

// --- sign in -------------------------------------------------------------------------------------

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function handleFailure(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut();
    showError(`Signed out: ${err.message}`);
    return;
  }
  showError(err instanceof ApiError ? err.message : `Something went wrong on this page: ${err.message}`);
}

async function signIn(token) {
  state.token = token;
  const me = await api("/api/me");
  state.me = me;
  sessionStorage.setItem(TOKEN_KEY, token);
  const can = new Set(Array.isArray(me.can) ? me.can : ["search"]);
  const sections = [...can].filter((c) => c !== "search" && c !== "audit" && !c.startsWith("sensitivity:"));
  const sees = sections.length ? ` · sees ${sections.map(humanise).join(", ").toLowerCase()}` : "";
  $("who-text").textContent = `${me.user} (${humanise(me.role || "")})${sees}`;
  $("who").hidden = false;
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("token").value = "";
  showError("");
  $("search").hidden = !can.has("search");
  $("audit").hidden = !can.has("audit");
  if (can.has("search")) $("query").focus();
  else if (can.has("audit")) $("audit-user").focus();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, me: null, search: null, audit: null });
  $("who").hidden = true;
  $("workspace").hidden = true;
  $("results").hidden = true;
  $("view").hidden = true;
  $("hits").replaceChildren();
  $("view-sections").replaceChildren();
  $("audit-entries").replaceChildren();
  $("audit-status").textContent = "";
  $("sign-in").hidden = false;
}

// --- search --------------------------------------------------------------------------------------

function selectedKind() {
  return document.querySelector('input[name="kind"]:checked').value;
}

function showKind(kind) {
  const k = KINDS[kind];
  $("query-label").textContent = k.label;
  $("query").placeholder = k.placeholder;
  $("query").setAttribute("autocapitalize", k.capitalise);
  $("dob-field").hidden = kind !== "person";
}

async function runSearch(search) {
  const ticket = ++state.requests;
  const button = $("search-button");
  button.disabled = true;
  $("results").setAttribute("aria-busy", "true");
  try {
    const params = { q: search.q, justification: search.justification, page: search.page };
    if (search.kind === "person") params.dob = search.dob;
    const result = await api(`/api/search/${encodeURIComponent(search.kind)}`, params);
    if (ticket !== state.requests) return; // a newer search has been asked for
    state.search = search;
    showError("");
    showResults(search, result);
  } catch (err) {
    if (ticket === state.requests) {
      // results of an earlier search would read as the answer to this one
      $("hits").replaceChildren();
      $("results").hidden = true;
      $("view").hidden = true;
      handleFailure(err);
    }
  } finally {
    if (ticket === state.requests) {
      button.disabled = false;
      $("results").removeAttribute("aria-busy");
    }
  }
}

function hitLines(kind, summary) {
  const s = summary || {};
  const part = (label, value) => (isEmpty(value) ? null : [label, value]);
  if (kind === "person") {
    return {
      title: s.golden_name,
      details: [part("born", s.golden_dob), part("PNC", s.pnc_id), part("", s.postcode)],
      warnings: s.active_warnings,
    };
  }
  if (kind === "vehicle") {
    return {
      title: s.current_registration,
      details: [part("", [s.colour, s.make, s.model].filter((v) => !isEmpty(v) && !isMasked(v)).join(" ") || null)],
    };
  }
  return { title: s.address, details: [part("", s.current_postcode), part("UPRN", s.current_uprn)] };
}

function hitItem(kind, hit) {
  const lines = hitLines(kind, hit.summary);
  const title = isEmpty(lines.title) ? hit.entity_id : lines.title;
  const titleNode = el("span", { className: "hit-title" }, [isMasked(title) ? maskedNode(title) : el("span", { text: title })]);
  const details = el("span", { className: "hit-details" });
  for (const detail of lines.details.filter(Boolean)) {
    const [label, value] = detail;
    const part = el("span", { className: "detail" });
    if (label) part.append(`${label} `);
    part.append(isMasked(value) ? maskedNode(value) : plainText(value));
    details.append(part);
  }
  if (!isEmpty(hit.summary && hit.summary.mentions)) {
    details.append(el("span", { className: "detail", text: `${plainText(hit.summary.mentions)} record${Number(hit.summary.mentions) === 1 ? "" : "s"}` }));
  }
  const why = el("span", { className: "hit-why" }, [
    el("span", { className: "score", text: `${Math.round(Number(hit.score) * 100)}%` }),
    el("span", { className: "matched", text: hit.matched || "" }),
  ]);
  const children = [titleNode, details, why];
  if (Number(lines.warnings) > 0) {
    children.splice(1, 0, el("span", { className: "badge", text: `${lines.warnings} active warning${lines.warnings > 1 ? "s" : ""}` }));
  }
  const button = el("button", { className: "hit", attrs: { type: "button" } }, children);
  button.addEventListener("click", () => openView(kind, hit.entity_id));
  return el("li", {}, [button]);
}

function showResults(search, result) {
  const hits = Array.isArray(result.hits) ? result.hits : [];
  const list = $("hits");
  list.replaceChildren(...hits.map((hit) => hitItem(search.kind, hit)));
  const page = Number(result.page) || search.page;
  const pageSize = Number(result.page_size) || hits.length;
  list.start = (page - 1) * pageSize + 1;
  const what = `${search.kind} search “${search.q}”${search.kind === "person" && search.dob ? ` born ${search.dob}` : ""}`;
  $("results-status").textContent = hits.length
    ? `${what}: ${hits.length} on page ${page}, best match first.`
    : `${what}: nothing found${page > 1 ? " on this page" : ""}.`;
  $("page-number").textContent = `Page ${page}`;
  $("previous-page").disabled = page <= 1;
  // the service says whether more hits follow; without that, a full page may have a next one
  $("next-page").disabled = typeof result.more === "boolean" ? !result.more : hits.length < pageSize || hits.length === 0;
  $("results").hidden = false;
  $("view").hidden = true;
}

// --- the 360 view --------------------------------------------------------------------------------

function viewTitle(kind, view) {
  const text = (values) => values.filter((v) => !isEmpty(v) && !isMasked(v)).join(" ");
  if (kind === "person") return text([view.forename, view.middle_names, view.surname]);
  if (kind === "vehicle") return text([view.registration, view.make, view.model]);
  return text([view.address, view.postcode]);
}

async function openView(kind, entityId) {
  const justification = state.search ? state.search.justification : $("justification").value.trim();
  const ticket = ++state.requests;
  try {
    const result = await api(`/api/${encodeURIComponent(kind)}/${encodeURIComponent(entityId)}`, { justification });
    if (ticket !== state.requests) return;
    showError("");
    showView(kind, result);
  } catch (err) {
    if (ticket === state.requests) handleFailure(err);
  }
}

function listSection(name, items, held) {
  const section = el("section", { className: "view-section", attrs: { "data-section": name } });
  section.append(el("h3", { text: `${humanise(name)} (${items.length})` }));
  if (!items.length) {
    section.append(el("p", { className: "none", text: "None recorded." }));
    return section;
  }
  if (items.every((item) => isPlain(item))) {
    section.append(el("p", {}, [valueNode(name, items)]));
    return section;
  }
  const list = el("ul", { className: "items" });
  const addItems = (from, to) => {
    for (const item of items.slice(from, to)) {
      list.append(el("li", { className: "item" }, [isPlain(item) ? valueNode(name, item) : objectBody(item, held)]));
    }
  };
  addItems(0, SHOWN_ITEMS);
  section.append(list);
  if (items.length > SHOWN_ITEMS) {
    const more = el("button", { className: "secondary", text: `Show all ${items.length}`, attrs: { type: "button" } });
    more.addEventListener("click", () => {
      addItems(SHOWN_ITEMS, items.length);
      more.remove();
    });
    section.append(more);
  }
  return section;
}

// An object: its plain fields as a list, its lists and objects as sub-sections. The items of its lists
// are masked as the object is; what was withheld is said of the object only.
function objectBody(record, held) {
  const sources = {};
  const plain = {};
  const nested = [];
  for (const [key, value] of Object.entries(record)) {
    if (key.endsWith("_source")) sources[key.slice(0, -"_source".length)] = value;
    else if ((key === "withheld" || key === "masked") && Array.isArray(value)) continue;
    else if (isSection(key, value) || !isPlain(value)) nested.push([key, value]);
    else plain[key] = value;
  }
  const body = el("div", { className: "record" }, [fieldList(plain, sources, held)]);
  const inner = { withheld: new Set(), masked: held.masked };
  for (const [key, value] of nested) {
    body.append(Array.isArray(value) ? listSection(key, value, inner) : objectSection(key, value, inner));
  }
  return body;
}

function objectSection(name, record, held) {
  return el("section", { className: "view-section", attrs: { "data-section": name } }, [
    el("h3", { text: humanise(name) }),
    objectBody(record, held),
  ]);
}

function showView(kind, result) {
  const view = result.view || {};
  const title = viewTitle(kind, view) || result.entity_id;
  $("view-title").textContent = `${humanise(kind)}: ${title}`;
  $("view-meta").textContent = `${result.entity_id} · snapshot ${result.snapshot_id || "unknown"}`;
  const sections = $("view-sections");
  sections.replaceChildren();
  const held = heldBack(view);
  // parts of the view removed for this role are named, so an officer knows the picture is partial
  const removed = [...held.withheld].filter((key) => !(key in view));
  if (removed.length) {
    sections.append(el("p", {
      className: "withheld-note",
      text: `Not shown for your role: ${removed.map(humanise).join(", ").toLowerCase()}.`,
      attrs: { "data-section": "withheld" },
    }));
  }
  // the record's own fields first, then each list in the order the service gives them
  const own = {};
  const rest = [];
  for (const [key, value] of Object.entries(view)) {
    if (isSection(key, value) || !isPlain(value)) rest.push([key, value]);
    else own[key] = value;
  }
  sections.append(el("section", { className: "view-section", attrs: { "data-section": "record" } }, [
    el("h3", { text: "Record" }),
    objectBody(own, held),
  ]));
  const inner = { withheld: new Set(), masked: held.masked };
  for (const [key, value] of rest) {
    sections.append(Array.isArray(value) ? listSection(key, value, inner) : objectSection(key, value, inner));
  }
  $("view").hidden = false;
  $("view-title").setAttribute("tabindex", "-1");
  $("view-title").focus({ preventScroll: true });
  $("view").scrollIntoView({ block: "start" });
}

// --- the audit log (auditors and administrators) ----------------------------------------------------

function nextDay(day) {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

async function runAudit(filter) {
  const ticket = ++state.requests;
  try {
    const result = await api("/api/audit", {
      user: filter.user,
      since: filter.since,
      until: filter.until ? nextDay(filter.until) : "",
      page: filter.page,
    });
    if (ticket !== state.requests) return;
    state.audit = filter;
    showError("");
    showAudit(filter, result);
  } catch (err) {
    if (ticket === state.requests) handleFailure(err);
  }
}

function auditEntry(entry) {
  const query = entry.query && typeof entry.query === "object" && !Array.isArray(entry.query)
    ? Object.entries(entry.query).filter(([, v]) => !isEmpty(v)).map(([k, v]) => `${k} ${plainText(v)}`).join(", ")
    : entry.query;
  const at = typeof entry.at === "string" ? `${entry.at.replace("T", " ").slice(0, 19)} UTC` : entry.at;
  const heading = [at, `${entry.user} (${humanise(entry.role || "")})`, [entry.action, entry.kind].filter(Boolean).join(" "),
    `status ${entry.status}`].filter((v) => !isEmpty(v)).join(" · ");
  const fields = { query, justification: entry.justification, entity_ids: entry.entity_ids, snapshot_id: entry.snapshot_id,
    detail: entry.detail, seq: entry.seq };
  return el("li", { className: "item" }, [el("p", { className: "entry-heading", text: heading }), fieldList(fields, {}, NOTHING_HELD)]);
}

function showAudit(filter, result) {
  const entries = Array.isArray(result.entries) ? result.entries : [];
  $("audit-entries").replaceChildren(...entries.map(auditEntry));
  const page = Number(result.page) || filter.page;
  const pageSize = Number(result.page_size) || entries.length;
  const total = Number.isFinite(Number(result.total)) ? Number(result.total) : null;
  $("audit-status").textContent = entries.length
    ? `${total === null ? "" : `${total.toLocaleString("en-GB")} consultations; `}newest first, page ${page}.`
    : "No consultation matches.";
  $("audit-page").textContent = `Page ${page}`;
  $("audit-previous").disabled = page <= 1;
  $("audit-next").disabled = total === null ? entries.length < pageSize : page * pageSize >= total;
}

// --- wiring --------------------------------------------------------------------------------------

function readSearchForm(page) {
  const kind = selectedKind();
  return {
    kind,
    q: $("query").value.trim(),
    dob: kind === "person" ? $("dob").value : "",
    justification: $("justification").value.trim(),
    page,
  };
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      showError("Enter your access token to sign in.");
      return;
    }
    signIn(token).catch((err) => {
      state.token = null;
      showError(err instanceof ApiError ? `Sign-in refused: ${err.message}` : err.message);
    });
  });
  $("sign-out").addEventListener("click", () => {
    signOut();
    showError("");
  });
  for (const radio of document.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener("change", () => showKind(selectedKind()));
  }
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    runSearch(readSearchForm(1));
  });
  $("previous-page").addEventListener("click", () => {
    if (state.search && state.search.page > 1) runSearch({ ...state.search, page: state.search.page - 1 });
  });
  $("next-page").addEventListener("click", () => {
    if (state.search) runSearch({ ...state.search, page: state.search.page + 1 });
  });
  $("back-to-results").addEventListener("click", () => {
    $("view").hidden = true;
    $("results").scrollIntoView({ block: "start" });
  });
  $("audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    runAudit({ user: $("audit-user").value.trim(), since: $("audit-since").value, until: $("audit-until").value, page: 1 });
  });
  $("audit-previous").addEventListener("click", () => {
    if (state.audit && state.audit.page > 1) runAudit({ ...state.audit, page: state.audit.page - 1 });
  });
  $("audit-next").addEventListener("click", () => {
    if (state.audit) runAudit({ ...state.audit, page: state.audit.page + 1 });
  });
  showKind(selectedKind());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).catch((err) => {
      signOut();
      if (!(err instanceof ApiError && err.status === 401)) showError(err.message);
    });
  }
});
