"""A card changes section on a touch screen: board drag and drop needs a mouse and its Move
button arrow keys, so a phone uses the task detail's Section field (a native select). Tapped
and chosen in a touch-emulating phone-sized context, the card then shows in that board column.
The task's facts, the field among them, are scanned with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import NewContext, Person, api_tasks, eventually, screenshot
from tests.e2e.test_manage_labels_and_sections import axe_violations_in
from tests.e2e.ui import sign_up
from tests.support.processes import AppProcess

PHONE = {"width": 390, "height": 844}


def _project_with_sections_and_task(
    server: AppProcess, person: Person, name: str, sections: list[str], title: str
) -> dict[str, Any]:
    """Made through the API (a token of its own): {project, sections by name, task}."""
    with httpx.Client(base_url=server.base_url, timeout=10) as api:
        login = api.post(
            "/api/v1/auth/login", json={"email": person.email, "password": person.password}
        )
        assert login.status_code == 200, login.text
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        project = api.post("/api/v1/projects", json={"name": name, "color": None})
        assert project.status_code == 201, project.text
        project_id = project.json()["id"]
        by_name: dict[str, str] = {}
        for section in sections:
            made = api.post(f"/api/v1/projects/{project_id}/sections", json={"name": section})
            assert made.status_code == 201, made.text
            by_name[section] = made.json()["id"]
        task = api.post("/api/v1/tasks", json={"title": title, "project_id": project_id})
        assert task.status_code == 201, task.text
        return {"project_id": project_id, "sections": by_name, "task": task.json()}


def test_a_card_changes_section_on_a_touch_screen_through_the_task_detail(
    new_context: NewContext, person: Person, server: AppProcess
) -> None:
    context = new_context(has_touch=True, is_mobile=True, viewport=PHONE, bypass_csp=True)
    page = context.new_page()
    sign_up(page, person)
    made = _project_with_sections_and_task(
        server, person, "Allotment", ["Doing", "Done"], "Water beans"
    )

    # The task, opened from its project's list with a tap
    page.goto(f"/tasks?project={made['project_id']}")
    expect(page.get_by_role("heading", level=1, name="Allotment")).to_be_visible()
    page.get_by_role("link", name="Water beans", exact=True).tap()
    expect(page.get_by_role("heading", level=1, name="Water beans")).to_be_visible()

    # Its Section field: "No section" and the sections in board order; tapped, then chosen
    section = page.get_by_role("combobox", name="Section", exact=True)
    expect(section.get_by_role("option")).to_have_text(["No section", "Doing", "Done"])
    expect(section).to_have_value("")
    section.tap()
    section.select_option(label="Doing")
    expect(section).to_have_value(made["sections"]["Doing"])
    expect(page.get_by_text("Moved to Doing.", exact=True)).to_have_count(1)
    eventually(
        lambda: [t["section_id"] for t in api_tasks(server, person.email)],
        [made["sections"]["Doing"]],
    )
    screenshot(page, "task-section-touch")
    assert axe_violations_in(page, ".facts") == []

    # The board shows the card in that column
    page.locator(".facts").get_by_role("link", name="Allotment", exact=True).tap()
    expect(page.get_by_role("heading", level=1, name="Allotment")).to_be_visible()
    page.get_by_role("link", name="Board", exact=True).tap()
    doing = page.get_by_role("list", name="Doing tasks")
    expect(doing.get_by_role("link", name="Water beans", exact=True)).to_be_visible()
    expect(
        page.get_by_role("list", name="No section tasks").get_by_role("link", name="Water beans")
    ).to_have_count(0)
    screenshot(page, "task-section-touch-board")
