"""Projects in the browser: create one in the sidebar, add a task to it, move the task between
board columns with the keyboard only, and share the project with a second person who then
sees it. The board and the share dialog are scanned with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.ui import create_task, sign_up, task_item
from tests.support.processes import AppProcess

# Installed by `npm ci` in frontend/ (a devDependency), like the build the suite serves.
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})
  .then(r => r.violations.map(
    v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`))"""


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is now (the context bypasses the CSP,
    which would refuse the injected script)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations: list[str] = page.evaluate(AXE_RUN)
    return violations


def api_projects(server: AppProcess, person: Person) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answer = client.get("/api/v1/projects", headers=headers)
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


def test_create_fill_move_on_the_board_and_share_a_project(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    page = new_context(bypass_csp=True).new_page()
    sign_up(page, person)
    projects = page.get_by_role("navigation", name="Projects")
    expect(projects.get_by_role("link", name="Inbox", exact=True)).to_be_visible()

    # A project made in the sidebar opens at once
    projects.get_by_role("button", name="New project").click()
    projects.get_by_role("textbox", name="Project name").fill("Garden")
    projects.get_by_role("combobox", name="Colour").select_option(label="Green")
    projects.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Garden")).to_be_visible()
    link = projects.get_by_role("link", name="Garden", exact=True)
    expect(link).to_have_attribute("aria-current", "page")

    # A task added here belongs to it
    create_task(page, "Plant tulips")
    (garden,) = [p for p in api_projects(server, person) if p["name"] == "Garden"]
    eventually(
        lambda: [(t["title"], t["project_id"]) for t in api_tasks(server, person.email)],
        [("Plant tulips", garden["id"])],
    )

    # The board: a section, then the card moved into it with the keyboard alone
    page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("textbox", name="New section").fill("Doing")
    page.get_by_role("button", name="Add section").click()
    doing = page.get_by_role("list", name="Doing tasks")
    expect(doing).to_be_visible()
    unplaced = page.get_by_role("list", name="No section tasks")
    expect(task_item(page, "Plant tulips")).to_be_visible()
    assert unplaced.get_by_role("link", name="Plant tulips").count() == 1

    move = page.get_by_role("button", name="Move Plant tulips")
    move.focus()
    page.keyboard.press("Enter")
    expect(move).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(doing.get_by_role("link", name="Plant tulips")).to_be_visible()
    expect(unplaced.get_by_role("link", name="Plant tulips")).to_have_count(0)
    expect(page.get_by_role("button", name="Move Plant tulips")).to_be_focused()
    screenshot(page, "board")
    assert axe_violations(page) == []

    def section_of_the_task() -> str | None:
        (task,) = api_tasks(server, person.email)
        section: str | None = task["section_id"]
        return section

    eventually(lambda: section_of_the_task() is not None, True)

    # Shared with a second person, who then sees it
    friend = Person(f"e2e-{uuid.uuid4().hex[:10]}@example.com", "Friend")
    friend_page = new_context().new_page()
    sign_up(friend_page, friend)

    page.get_by_role("button", name="Share", exact=True).click()
    dialog = page.get_by_role("dialog", name="Share “Garden”")
    dialog.get_by_role("textbox", name="Email").fill(friend.email)
    dialog.get_by_role("combobox", name="Role").select_option("editor")
    dialog.get_by_role("button", name="Invite").click()
    expect(dialog.get_by_role("list", name="Members")).to_contain_text(friend.email)
    expect(dialog.get_by_role("combobox", name="Role of Friend")).to_have_value("editor")
    screenshot(page, "share-dialog")
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    friend_page.reload()
    friend_projects = friend_page.get_by_role("navigation", name="Projects")
    friend_projects.get_by_role("link", name="Garden", exact=True).click()
    expect(friend_page.get_by_role("heading", level=1, name="Garden")).to_be_visible()
    expect(task_item(friend_page, "Plant tulips")).to_be_visible()
