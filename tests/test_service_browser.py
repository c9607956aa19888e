"""The officer web page in a real browser: Debian's Chromium driven by Playwright, against the real
service running on loopback over a published tiny estate. An officer signs in, finds a person by a
mistyped name, opens the 360 view and sees the sections of their role; a search without a
justification is refused; a hostile query shows as text and runs nothing; a phone-sized screen
never scrolls sideways."""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from service_server import running_service  # noqa: F401  (fixture `service`: the running server)

from wmp_platform.snapshot import open_published
from wmp_platform.synthetic.noise import typo

# Debian's package, not a browser downloaded by Playwright; WMP_CHROMIUM names another binary
CHROMIUM = os.environ.get("WMP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
JUSTIFICATION = "Incident 4471: confirming the identity of a man stopped on Albert Road"
HOSTILE = '<img src=x onerror="window.__injected=1"><script>window.__injected=2</script>'


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/install installs Debian's chromium package "
                    "(or set WMP_CHROMIUM to a Chromium binary)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


class Tab:
    """A browser tab and what went wrong in it (script errors, dialogs: an injected alert() is one)."""

    def __init__(self, browser: Browser, **options):
        self.context = browser.new_context(locale="en-GB", timezone_id="Europe/London", **options)
        # each visit starts signed out: the token kept in sessionStorage is dropped on navigation
        self.context.add_init_script("sessionStorage.clear()")
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.trouble: list[str] = []
        self.page.on("pageerror", lambda error: self.trouble.append(f"script error: {error}"))
        self.page.on("dialog", lambda dialog: (self.trouble.append(f"dialog: {dialog.message}"), dialog.dismiss()))

    def sign_in(self, service, role: str) -> Page:
        self.trouble.clear()
        page = self.page
        page.goto(f"{service.base_url}/")
        page.fill("#token", service.tokens[role])
        page.click("#sign-in-button")
        expect(page.locator("#workspace")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('wmp.token')") == service.tokens[role]
        return page


@pytest.fixture(scope="module")
def desk(browser) -> Tab:
    """One desktop tab for the module's tests (a new tab costs Chromium a second): signed in afresh by each."""
    tab = Tab(browser)
    yield tab
    tab.context.close()


def search(page: Page, kind: str, query: str, justification: str, dob: str | None = None) -> None:
    page.check(f'input[name="kind"][value="{kind}"]', force=True)
    page.fill("#query", query)
    if dob:
        page.fill("#dob", dob)
    page.fill("#justification", justification)
    page.click("#search-button")


@pytest.fixture(scope="module")
def known_person(service) -> dict:
    """A person of the estate with active warnings and a name and date of birth no one else has, and
    their name as an officer might mistype it."""
    with open_published(service.layout) as con:
        entity_id, name, forename, surname, dob = con.execute("""
            SELECT entity_id, concat_ws(' ', forename, middle_names, surname), forename, surname, dob
            FROM views.person_360
            WHERE active_warnings > 0 AND forename IS NOT NULL AND surname IS NOT NULL AND dob IS NOT NULL
              AND length(surname) >= 5
            QUALIFY count(*) OVER (PARTITION BY lower(forename), lower(surname), dob) = 1
            ORDER BY mentions DESC, entity_id LIMIT 1""").fetchall()[0]
    rng = random.Random(7)
    mistyped = surname
    while mistyped.lower() == surname.lower():
        mistyped = typo(rng, surname)
    return {"entity_id": entity_id, "name": name, "noisy": f"{forename.lower()} {mistyped.lower()}",
            "dob": dob.isoformat()}


def sections_shown(page: Page) -> set[str]:
    return set(page.locator("#view-sections [data-section]").evaluate_all("els => els.map(e => e.dataset.section)"))


def served_view(service, role: str, entity_id: str) -> dict:
    """The person's 360 view as the service gives it to the role (what the page must show)."""
    response = httpx.get(f"{service.base_url}/api/person/{entity_id}", params={"justification": JUSTIFICATION},
                         headers=service.headers(role), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["view"]


@pytest.mark.parametrize("role", ["response_officer", "investigator"])
def test_an_officer_finds_a_person_by_a_mistyped_name_and_opens_the_360_view(desk, service, known_person, role):
    page = desk.sign_in(service, role)
    expect(page.locator("#who-text")).to_contain_text(role.replace("_", " "), ignore_case=True)

    search(page, "person", known_person["noisy"], JUSTIFICATION, known_person["dob"])
    first = page.locator("#hits .hit").first
    expect(first.locator(".hit-title")).to_have_text(known_person["name"])
    expect(first.locator(".matched")).not_to_be_empty()
    expect(first.locator(".score")).to_have_text(re.compile(r"^\d{1,3}%$"))

    first.click()
    expect(page.locator("#view-title")).to_have_text(f"Person: {known_person['name']}")
    expect(page.locator("#view-meta")).to_contain_text(known_person["entity_id"])
    view = served_view(service, role, known_person["entity_id"])
    lists = {key for key, value in view.items() if isinstance(value, list) and key not in ("feeds", "withheld", "masked")}
    assert sections_shown(page) - {"record", "withheld"} == lists
    assert {"aliases", "identifiers", "warnings"} <= lists
    # the record's fields masked or withheld for the role are marked as such, not left out
    held = {key for key in {*view["masked"], *view["withheld"]} if key in view and not isinstance(view[key], list)}
    expect(page.locator('[data-section="record"] .masked')).to_have_count(len(held))
    expect(page.locator('[data-section="warnings"] h3')).not_to_have_text("Warnings (0)")
    if role == "response_officer":  # the role's sections leave events out; the page says so
        assert "events" not in lists and {"dob", "ni_number"} <= held
        expect(page.locator('[data-section="withheld"]')).to_contain_text("events")
    else:
        assert "events" in lists
    assert not desk.trouble


def refusal(page: Page, kind: str, query: str, justification: str, status: int = 400) -> str:
    """Search, expect the service to refuse with `status`, and return its reason (its `detail`)."""
    with page.expect_response(lambda response: "/api/search/" in response.url) as answer:
        search(page, kind, query, justification)
    assert answer.value.status == status, answer.value.text()
    return answer.value.json()["detail"]


def test_a_search_without_a_justification_is_refused_with_the_services_reason(desk, service, known_person):
    page = desk.sign_in(service, "response_officer")
    search(page, "person", known_person["noisy"], JUSTIFICATION, known_person["dob"])
    expect(page.locator("#hits .hit").first).to_be_visible()
    for justification in ("", "because"):  # none, and too short to say why
        reason = refusal(page, "person", known_person["noisy"], justification)
        assert "justification is required" in reason
        expect(page.locator("#error")).to_have_text(reason)
        expect(page.locator("#hits .hit")).to_have_count(0)  # the earlier results are not left as its answer
    search(page, "person", known_person["noisy"], JUSTIFICATION, known_person["dob"])
    expect(page.locator("#hits .hit").first).to_be_visible()
    expect(page.locator("#error")).to_be_hidden()
    assert not desk.trouble


def test_a_hostile_query_is_shown_as_text_and_runs_nothing(desk, service):
    page = desk.sign_in(service, "investigator")
    for kind in ("person", "vehicle", "location"):
        reason = refusal(page, kind, HOSTILE, JUSTIFICATION)
        assert HOSTILE in reason  # the service quotes the query back: the page must show it as text
        expect(page.locator("#error")).to_have_text(reason)
        assert page.evaluate("window.__injected") is None
        # nothing of the query became markup: no image or script anywhere the page writes data
        assert page.locator("main img, main script, header img, header script").count() == 0
    assert not desk.trouble


def test_on_a_phone_sized_screen_nothing_scrolls_sideways_and_every_control_is_big_enough(
        browser, service, known_person):
    phone = Tab(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = phone.sign_in(service, "intelligence_analyst")

    def fits() -> None:
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1] == PHONE["width"], f"page {width[0]}px wide on a {width[1]}px screen"
        small = page.evaluate("""() => [...document.querySelectorAll('button, input:not([type=radio]), textarea, .kind span')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.id || e.className || e.textContent.trim(), e.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || r.width < 44).map(([n, r]) => `${n} ${r.width}x${r.height}`)""")
        assert not small, f"tap targets under 44px: {small}"
        tiny_text = page.evaluate("""() => [...document.querySelectorAll('main *, header *')]
            .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .filter(e => parseFloat(getComputedStyle(e).fontSize) < 13).map(e => e.textContent.trim().slice(0, 30))""")
        assert not tiny_text, f"text under 13px: {tiny_text}"

    fits()
    search(page, "person", known_person["noisy"], JUSTIFICATION, known_person["dob"])
    expect(page.locator("#hits .hit").first).to_be_visible()
    fits()
    page.locator("#hits .hit").first.click()
    expect(page.locator("#view")).to_be_visible()
    expect(page.locator('[data-section="events"]')).to_be_visible()
    fits()
    assert not phone.trouble
    phone.context.close()
