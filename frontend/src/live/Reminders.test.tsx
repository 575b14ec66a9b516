// Fired reminders: an in-app live region until dismissed, told once; a system notification
// only with permission already granted (never asked for) and the page out of sight.
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FiredReminder } from '../api/types';
import { FakeServer } from '../test/fakeServer';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import { dropTaskwellDB } from '../offline/db';
import type { Workspace } from '../tasks/workspace';
import { Reminders } from './Reminders';
import { ReminderStore, STALE_AFTER_MS, notifySystem } from './reminders';

const NOW = Date.UTC(2031, 5, 1, 9, 0);

function reminder(id: string, title: string, ago = 0): FiredReminder {
  return { id, task_id: `task-${id}`, remind_at: new Date(NOW - ago).toISOString(), title };
}

describe('the in-app reminders', () => {
  let workspace: Workspace & { dbName: string };

  beforeEach(async () => {
    workspace = await testWorkspace(new FakeServer());
    workspace.reminders = new ReminderStore(
      () => undefined,
      () => NOW,
    );
  });

  afterEach(async () => {
    await dropTaskwellDB(workspace.dbName);
  });

  it('shows a fired reminder in a polite live region, with a link to its task', async () => {
    renderAt('/tasks', withWorkspace(workspace, <Reminders />));
    const region = screen.getByRole('log', { name: 'Reminders' });
    expect(region).toHaveAttribute('aria-live', 'polite');
    expect(region).toBeEmptyDOMElement(); // there before anything is said in it

    workspace.reminders.fired(reminder('r1', 'Call the plumber'));

    expect(await within(region).findByText(/Reminder:/)).toHaveTextContent('Reminder: Call the plumber');
    expect(within(region).getByRole('link', { name: 'Call the plumber' })).toHaveAttribute('href', '/tasks/task-r1');
  });

  it('stays until dismissed', async () => {
    renderAt('/tasks', withWorkspace(workspace, <Reminders />));
    workspace.reminders.fired(reminder('r1', 'Call the plumber'));

    await userEvent.click(await screen.findByRole('button', { name: 'Dismiss reminder Call the plumber' }));

    expect(screen.getByRole('log', { name: 'Reminders' })).toBeEmptyDOMElement();
  });

  it('tells each reminder once, and not those a long absence made stale', () => {
    const notify = vi.fn();
    const store = new ReminderStore(notify, () => NOW);

    store.fired(reminder('r1', 'Once'));
    store.fired(reminder('r1', 'Once')); // a catch-up told it again
    store.fired(reminder('r2', 'Last week', STALE_AFTER_MS + 1));

    expect(store.getState().fired.map((r) => r.title)).toEqual(['Once']);
    expect(notify).toHaveBeenCalledTimes(1);
  });
});

describe('the system notification', () => {
  const shown: { title: string; options: NotificationOptions }[] = [];
  const requestPermission = vi.fn();
  let permission: NotificationPermission;
  let hidden: boolean;

  beforeEach(() => {
    shown.length = 0;
    class FakeNotification {
      static get permission() {
        return permission;
      }
      static requestPermission = requestPermission;
      onclick: (() => void) | null = null;
      constructor(title: string, options: NotificationOptions) {
        shown.push({ title, options });
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
    vi.spyOn(document, 'hidden', 'get').mockImplementation(() => hidden);
  });

  afterEach(() => vi.unstubAllGlobals());

  it('is shown when permission was granted and the page is out of sight', () => {
    permission = 'granted';
    hidden = true;

    notifySystem(reminder('r1', 'Call the plumber'));

    expect(shown).toEqual([{ title: 'Reminder', options: { body: 'Call the plumber', tag: 'reminder-r1' } }]);
  });

  it('is never asked for, nor shown without permission', () => {
    permission = 'default';
    hidden = true;

    notifySystem(reminder('r1', 'Call the plumber'));

    expect(shown).toEqual([]);
    expect(requestPermission).not.toHaveBeenCalled();
  });

  it('is left to the in-app one while the page is on screen', () => {
    permission = 'granted';
    hidden = false;

    notifySystem(reminder('r1', 'Call the plumber'));

    expect(shown).toEqual([]);
  });
});
