// Live sync's changes reaching the app: each store, the reminders, the hub, and new tasks held
// back while this device's own create is on its way.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Change, ChangeEntity, FiredReminder, Label, Project, Task } from '../api/types';
import { LabelStore } from '../labels/store';
import { dropTaskwellDB } from '../offline/db';
import { applyPending } from '../offline/overlay';
import { OfflineQueue } from '../offline/queue';
import { ProjectStore } from '../projects/store';
import { FakeServer, INBOX_ID, makeTask } from '../test/fakeServer';
import { PROJECT_DEFAULTS, fakeApi, json } from '../test/fixtures';
import { DEFAULT_FILTERS } from '../tasks/filters';
import { TaskListStore } from '../tasks/store';
import { ChangeApplier } from './apply';
import { ChangeHub } from './hub';
import { ReminderStore } from './reminders';

const upsert = <T extends { id: string }>(entity: ChangeEntity, data: T): Change => ({
  entity,
  id: data.id,
  op: 'upsert',
  data,
});
const remove = (entity: ChangeEntity, id: string): Change => ({ entity, id, op: 'delete' });
const project = (id: string, name: string, extra: Partial<Project> = {}): Project => ({
  ...PROJECT_DEFAULTS,
  id,
  name,
  ...extra,
});
const label = (id: string, name: string, version = 1): Label => ({
  id,
  name,
  color: null,
  version,
  created_at: '',
  updated_at: '',
});

let n = 0;
let server: FakeServer;
let queue: OfflineQueue;
let list: TaskListStore;
let projects: ProjectStore;
let labels: LabelStore;
let reminders: ReminderStore;
let notify: ReturnType<typeof vi.fn<(reminder: FiredReminder) => void>>;
let changes: ChangeHub;
let applier: ChangeApplier;

const titles = () => applyPending(list.getState().items, queue.snapshot()).map((t) => t.title);

beforeEach(async () => {
  n += 1;
  setCsrfToken('csrf');
  const api = fakeApi([
    [
      'GET',
      /\/projects\?archived=false$/,
      () => json(200, { items: [project(INBOX_ID, 'Inbox', { is_inbox: true })] }),
    ],
    ['GET', /\/labels$/, () => json(200, { items: [label('l-b', 'Bills'), label('l-x', 'Xmas')] })],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
  server = new FakeServer();
  queue = await OfflineQueue.open(server, `apply-test-${n}`);
  list = new TaskListStore(queue, {
    listTasks: async () => ({ items: [...server.tasks.values()].reverse(), next_cursor: null }),
    savePage: async () => undefined,
    loadPage: async () => undefined,
    loadAllTasks: async () => [],
    saveTask: async () => undefined,
    forgetTask: async () => undefined,
    sync: () => void queue.flush(),
  });
  projects = new ProjectStore();
  labels = new LabelStore();
  notify = vi.fn();
  reminders = new ReminderStore(notify);
  changes = new ChangeHub();
  applier = new ChangeApplier({ queue, list, projects, labels, reminders, changes });
  await Promise.all([list.setFilters(DEFAULT_FILTERS), projects.load(), labels.load()]);
});

afterEach(async () => {
  applier.close();
  await vi.waitFor(() => expect(queue.isFlushing).toBe(false));
  vi.unstubAllGlobals();
  await dropTaskwellDB(`apply-test-${n}`);
  await dropTaskwellDB();
});

describe('tasks', () => {
  it('a task changed elsewhere is shown changed; a deleted one goes; a new one comes in', async () => {
    const [kept, deleted] = [server.seed(makeTask({ title: 'Kept' })), server.seed(makeTask({ title: 'Deleted' }))];
    await list.reload();
    const added = makeTask({ title: 'Added elsewhere' });

    applier.apply([
      upsert('task', { ...kept, title: 'Kept, renamed', version: 2 }),
      remove('task', deleted.id),
      upsert('task', added),
    ]);

    expect(titles()).toEqual(['Added elsewhere', 'Kept, renamed']);
  });

  it("holds back a new task while this device's own create is on its way, then shows it once", async () => {
    server.failNext('lost-response'); // the server creates it, the answer never comes back
    await list.create('Mine');
    await vi.waitFor(() => expect(queue.isFlushing).toBe(false));
    const [created] = [...server.tasks.values()] as [Task];

    // The stream tells of it before this device knows its id:
    applier.apply([upsert('task', created)]);
    expect(titles()).toEqual(['Mine']);

    await queue.flush(); // the same Idempotency-Key: the same task
    expect(titles()).toEqual(['Mine']);
    expect(list.getState().items.map((t) => t.id)).toEqual([created.id]);
  });

  it('shows changes to tasks already listed at once, even while a create is queued', async () => {
    const listed = server.seed(makeTask({ title: 'Listed' }));
    await list.reload();
    server.failNext('network');
    await list.create('Queued');
    await vi.waitFor(() => expect(queue.isFlushing).toBe(false));

    applier.apply([upsert('task', { ...listed, title: 'Listed, renamed', version: 2 })]);

    expect(titles()).toEqual(['Queued', 'Listed, renamed']);
  });
});

describe('projects and labels', () => {
  it('a project shared with the reader joins the sidebar, and the list reads its tasks', async () => {
    const garden = project('p-garden', 'Garden', { role: 'editor' });
    const theirs = server.seed(makeTask({ title: 'Plant tulips', project_id: garden.id }));
    expect(titles()).not.toContain(theirs.title);

    applier.apply([upsert('project', garden)]);

    expect(projects.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Garden']);
    await vi.waitFor(() => expect(titles()).toContain('Plant tulips'));
  });

  it('a project the reader left leaves the sidebar, and its tasks the list', async () => {
    const garden = project('p-garden', 'Garden');
    server.seed(makeTask({ title: 'Plant tulips', project_id: garden.id }));
    applier.apply([upsert('project', garden)]);
    await vi.waitFor(() => expect(titles()).toContain('Plant tulips'));

    applier.apply([remove('project', garden.id)]);

    expect(projects.byId(garden.id)).toBeUndefined();
    expect(titles()).not.toContain('Plant tulips');
  });

  it('an archived project moves out of the active list', () => {
    const garden = project('p-garden', 'Garden');
    applier.apply([upsert('project', garden)]);

    applier.apply([upsert('project', { ...garden, archived: true, version: 2 })]);

    expect(projects.getState().projects.map((p) => p.name)).toEqual(['Inbox']);
  });

  it('labels: a new one joins in name order, a renamed one is renamed, a deleted one leaves every task', async () => {
    const tagged = server.seed(makeTask({ title: 'Tagged', labels: ['l-b', 'l-x'] }));
    await list.reload();

    applier.apply([upsert('label', label('l-c', 'Car')), upsert('label', label('l-x', 'Holidays', 2))]);
    expect(labels.getState().labels.map((l) => l.name)).toEqual(['Bills', 'Car', 'Holidays']);

    applier.apply([remove('label', 'l-b')]);
    expect(labels.getState().labels.map((l) => l.name)).toEqual(['Car', 'Holidays']);
    expect(list.getState().items.find((t) => t.id === tagged.id)?.labels).toEqual(['l-x']);
  });
});

describe('reminders and the hub', () => {
  it('a fired reminder goes to the reminder store', () => {
    const fired: FiredReminder = {
      id: 'r1',
      task_id: 't1',
      remind_at: new Date().toISOString(),
      title: 'Call the plumber',
    };

    applier.apply([upsert('reminder', fired)]);

    expect(reminders.getState().fired).toEqual([fired]);
    expect(notify).toHaveBeenCalledWith(fired);
  });

  it('tells the screens each change of their kind, after the stores have it', () => {
    const task = makeTask({ title: 'Told' });
    const seen: string[] = [];
    changes.subscribe('task', (change) => seen.push(`${change.id} listed=${titles().includes('Told')}`));
    changes.subscribe('comment', (change) => seen.push(`comment ${change.id}`));

    applier.apply([upsert('task', task), remove('comment', 'c1'), remove('section', 's1')]);

    expect(seen).toEqual([`${task.id} listed=true`, 'comment c1']);
  });
});
