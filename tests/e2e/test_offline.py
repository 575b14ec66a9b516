"""Offline: the service worker serves the app, changes queue up, and on reconnect they are
replayed once each (Idempotency-Key, If-Match), so a flaky connection never duplicates."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.ui import (
    controlled_by_the_worker,
    create_task,
    rename_task,
    sign_up,
    sync_status,
    task_item,
    tasks_heading,
)
from tests.support.processes import AppProcess


def _signed_in(new_context: NewContext, person: Person) -> tuple[BrowserContext, Page]:
    context = new_context()
    page = context.new_page()
    sign_up(page, person)
    controlled_by_the_worker(page)
    return context, page


def test_offline_create_and_edit_sync_to_exactly_one_task(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    context, page = _signed_in(new_context, person)
    expect(sync_status(page, "Synced")).to_be_visible()

    context.set_offline(True)
    expect(sync_status(page, "Offline")).to_be_visible()
    create_task(page, "Pack for the trip")
    rename_task(page, "Pack for the trip", "Pack for the trip: passport, charger")
    screenshot(page, "tasks-offline")
    assert api_tasks(server, person.email) == []  # nothing reached the server yet

    context.set_offline(False)
    expect(sync_status(page, "Synced")).to_be_visible()

    def titles() -> list[str]:
        return [task["title"] for task in api_tasks(server, person.email)]

    eventually(titles, ["Pack for the trip: passport, charger"])
    page.reload()
    expect(task_item(page, "Pack for the trip: passport, charger")).to_have_count(1)


def test_the_app_and_the_last_seen_tasks_load_offline(
    new_context: NewContext, person: Person
) -> None:
    context, page = _signed_in(new_context, person)
    create_task(page, "Seen before going offline")
    expect(sync_status(page, "Synced")).to_be_visible()

    context.set_offline(True)
    page.reload()

    expect(tasks_heading(page)).to_be_visible()
    expect(task_item(page, "Seen before going offline")).to_be_visible()
    expect(sync_status(page, "Offline")).to_be_visible()
