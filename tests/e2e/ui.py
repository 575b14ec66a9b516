"""The browser app as a person uses it, by the accessible names the app promises (labels,
roles, button names): what a screen reader announces is what these helpers look for."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Person, exact


def sign_up(page: Page, person: Person) -> None:
    """Register on /register, then log in (if registering did not already): ends on Tasks."""
    page.goto("/register")
    page.get_by_label("Email", exact=True).fill(person.email)
    page.get_by_label("Display name", exact=True).fill(person.display_name)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Create account").click()
    tasks = tasks_heading(page)
    log_in_button = page.get_by_role("button", name="Log in", exact=True)
    expect(tasks.or_(log_in_button)).to_be_visible()
    if not tasks.is_visible():
        log_in(page, person)


def log_in(page: Page, person: Person) -> None:
    if "/login" not in page.url:
        page.goto("/login")
    page.get_by_label("Email", exact=True).fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(tasks_heading(page)).to_be_visible()


def tasks_heading(page: Page) -> Locator:
    return page.get_by_role("heading", name="Tasks", exact=True)


def new_task_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="New task", exact=True)


def create_task(page: Page, title: str) -> Locator:
    box = new_task_box(page)
    box.fill(title)
    box.press("Enter")
    item = task_item(page, title)
    expect(item).to_be_visible()
    return item


def task_item(page: Page, title: str) -> Locator:
    """The list item of the task with exactly this title."""
    return page.get_by_role("listitem").filter(has=complete_box(page, title))


def complete_box(page: Page, title: str) -> Locator:
    return page.get_by_role("checkbox", name=f"Complete {title}", exact=True)


def edit_button(page: Page, title: str) -> Locator:
    return page.get_by_role("button", name=f"Edit {title}", exact=True)


def delete_button(page: Page, title: str) -> Locator:
    return page.get_by_role("button", name=f"Delete {title}", exact=True)


def rename_task(page: Page, title: str, new_title: str) -> None:
    edit_button(page, title).click()
    box = page.get_by_role("textbox", name="Title", exact=True)
    box.fill(new_title)
    box.press("Enter")
    expect(task_item(page, new_title)).to_be_visible()


def sync_status(page: Page, text: str) -> Locator:
    """The offline / syncing / synced indicator showing `text`."""
    return page.get_by_role("status").filter(has_text=exact(text))


def visible_titles(page: Page) -> list[str]:
    """The titles of the tasks listed, read from their checkboxes' names."""
    names = page.get_by_role("checkbox").evaluate_all(
        "boxes => boxes.map(b => b.getAttribute('aria-label') || b.labels?.[0]?.innerText || '')"
    )
    prefix = "Complete "
    return [name.removeprefix(prefix).strip() for name in names if name.startswith(prefix)]


def controlled_by_the_worker(page: Page) -> None:
    """Wait until the service worker is active and controls this page (bounded)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
        expect(tasks_heading(page)).to_be_visible()
    page.wait_for_function("!!navigator.serviceWorker.controller")
