"""Live updates: a change made in one browser shows in another without a reload (GET /events),
and a browser that was offline catches up from its sync token once it is back (GET /sync),
its own queued changes shown once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.e2e.conftest import NewContext, Person, screenshot
from tests.e2e.ui import (
    complete_box,
    create_task,
    delete_button,
    log_in,
    rename_task,
    sign_up,
    sync_status,
    task_item,
)
from tests.support.processes import AppProcess

# "Within a few seconds": the wake-up is immediate, the server's own poll a few seconds.
LIVE_MS = 5_000


def _sign_in(api: httpx.Client, person: Person) -> None:
    """Sign the API client in as `person`, with a token of its own (not the browser's)."""
    login = api.post(
        "/api/v1/auth/login", json={"email": person.email, "password": person.password}
    )
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"


def _share_a_project(server: AppProcess, owner: Person, member: Person, name: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as api:
        _sign_in(api, owner)
        created = api.post("/api/v1/projects", json={"name": name, "color": None})
        assert created.status_code == 201, created.text
        project: dict[str, Any] = created.json()
        invited = api.post(
            f"/api/v1/projects/{project['id']}/members",
            json={"email": member.email, "role": "editor"},
        )
        assert invited.status_code == 201, invited.text


def _following(page: Page) -> None:
    """Wait until the page's live sync has caught up and its stream is open."""
    expect(page.locator("html")).to_have_attribute("data-live", "live")


def _open_project(page: Page, name: str) -> None:
    projects = page.get_by_role("navigation", name="Projects")
    projects.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def _signed_in_twice(new_context: NewContext, person: Person) -> tuple[Page, BrowserContext, Page]:
    """The same person on two devices: (first page, second context, second page)."""
    first = new_context().new_page()
    sign_up(first, person)
    second_context = new_context()
    second = second_context.new_page()
    log_in(second, person)
    _following(first)
    _following(second)
    return first, second_context, second


def test_a_shared_projects_changes_show_live_for_the_other_member(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    owner = person
    member = Person(f"e2e-{uuid.uuid4().hex[:10]}@example.com", "Member")
    owners = new_context().new_page()
    sign_up(owners, owner)
    members = new_context().new_page()
    sign_up(members, member)
    _following(owners)
    _following(members)

    # Made and shared elsewhere while both pages are open: it joins both sidebars as it happens.
    _share_a_project(server, owner, member, "Garden")
    for page in (owners, members):
        sidebar = page.get_by_role("navigation", name="Projects")
        expect(sidebar.get_by_role("link", name="Garden", exact=True)).to_be_visible(
            timeout=LIVE_MS
        )
    _open_project(owners, "Garden")
    _open_project(members, "Garden")

    create_task(owners, "Plant tulips")
    expect(task_item(members, "Plant tulips")).to_be_visible(timeout=LIVE_MS)

    complete_box(members, "Plant tulips").click()
    expect(complete_box(owners, "Plant tulips")).to_be_checked(timeout=LIVE_MS)

    rename_task(owners, "Plant tulips", "Plant tulips and daffodils")
    expect(task_item(members, "Plant tulips and daffodils")).to_be_visible(timeout=LIVE_MS)
    expect(task_item(members, "Plant tulips")).to_have_count(0)
    screenshot(members, "live-update")


def test_the_same_person_on_two_devices_sees_each_change_live(
    new_context: NewContext, person: Person
) -> None:
    laptop, _, phone = _signed_in_twice(new_context, person)

    create_task(laptop, "Book the dentist")
    expect(task_item(phone, "Book the dentist")).to_be_visible(timeout=LIVE_MS)

    complete_box(phone, "Book the dentist").click()
    expect(complete_box(laptop, "Book the dentist")).to_be_checked(timeout=LIVE_MS)


def test_a_device_that_was_offline_catches_up_once_it_is_back(
    new_context: NewContext, person: Person
) -> None:
    laptop, phone_context, phone = _signed_in_twice(new_context, person)
    create_task(laptop, "Water the plants")
    create_task(laptop, "Call mum")
    expect(task_item(phone, "Call mum")).to_be_visible(timeout=LIVE_MS)
    expect(task_item(phone, "Water the plants")).to_be_visible()

    phone_context.set_offline(True)
    expect(sync_status(phone, "Offline")).to_be_visible()

    # Meanwhile, on the laptop: one task renamed, one deleted, one added.
    rename_task(laptop, "Water the plants", "Water the plants twice")
    delete_button(laptop, "Call mum").click()
    laptop.get_by_role("button", name="Dismiss", exact=True).click()  # the deletion goes now
    create_task(laptop, "Buy seeds")
    expect(sync_status(laptop, "Synced")).to_be_visible()

    expect(task_item(phone, "Call mum")).to_be_visible()  # the phone has heard nothing
    create_task(phone, "Made on the phone")  # queued until it is back
    catch_ups: list[str] = []

    def note_catch_up(request: Request) -> None:
        if "/api/v1/sync?since=" in request.url:
            catch_ups.append(request.url)

    phone.on("request", note_catch_up)
    phone_context.set_offline(False)

    expect(task_item(phone, "Buy seeds")).to_be_visible(timeout=LIVE_MS)
    expect(task_item(phone, "Water the plants twice")).to_be_visible()
    expect(task_item(phone, "Call mum")).to_have_count(0)
    expect(task_item(phone, "Water the plants")).to_have_count(0)
    expect(sync_status(phone, "Synced")).to_be_visible()
    assert catch_ups, "the phone did not catch up with GET /sync after reconnecting"
    _following(phone)
    # Its own queued task, sent and then told back by the server, is there once, and on the
    # laptop too.
    expect(task_item(phone, "Made on the phone")).to_have_count(1)
    expect(task_item(laptop, "Made on the phone")).to_be_visible(timeout=LIVE_MS)
