// The board at /tasks?project=…&view=board: columns by section, keyboard and pointer moves
// queued as PATCHes with If-Match, each step announced.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { ListParams } from '../api/tasks';
import type { Section, Task, TaskPage } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import TasksPage from '../routes/TasksPage';
import { FakeServer, makeTask } from '../test/fakeServer';
import { PROJECT_DEFAULTS, fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';

const P = '11111111-1111-4111-8111-111111111111';
let server: FakeServer;
let workspace: Workspace & { dbName: string };
let role: 'owner' | 'viewer';
let api: ReturnType<typeof fakeApi>;
/** The answer to the next section PATCH, when not the change applied. */
let refuseSectionPatch: (() => Response) | null;
/** While set, section PATCHes wait for it before they are answered. */
let sectionGate: Promise<void> | null;
let heldPatches: number;

function section(id: string, name: string, position: number): Section {
  return { id, project_id: P, name, position, version: 1, created_at: '', updated_at: '' };
}

const SECTIONS = [section('s1', 'Doing', 1024), section('s2', 'Done', 2048)];
let sections: Section[];

function patchedSection(id: string, changes: Partial<Section>): Response {
  if (refuseSectionPatch) return refuseSectionPatch();
  const current = sections.find((s) => s.id === id)!;
  const updated = { ...current, ...changes, version: current.version + 1 };
  sections = sections.map((s) => (s.id === id ? updated : s));
  return json(200, updated);
}

async function listTasks(params: ListParams): Promise<TaskPage> {
  const items = [...server.tasks.values()]
    .filter((task) => task.project_id === params.project_id)
    .sort((a, b) => a.position - b.position);
  return { items, next_cursor: null };
}

function seed(title: string, section_id: string | null, position: number): Task {
  return server.seed(makeTask({ title, project_id: P, section_id, position, version: 3 }));
}

beforeEach(async () => {
  setCsrfToken('csrf');
  role = 'owner';
  sections = [...SECTIONS];
  refuseSectionPatch = null;
  sectionGate = null;
  heldPatches = 0;
  server = new FakeServer();
  workspace = await testWorkspace(server, listTasks);
  api = fakeApi([
    [
      'GET',
      /\/projects\?archived=false$/,
      () => json(200, { items: [{ ...PROJECT_DEFAULTS, id: P, name: 'Home', role }] }),
    ],
    ['GET', /\/projects\/[^/]+\/sections$/, () => json(200, { items: sections })],
    ['PATCH', /\/projects\/[^/]+\/sections\/([^/]+)$/, (m, body) => patchedSection(m[1]!, body as Partial<Section>)],
    ['POST', /\/projects\/[^/]+\/sections$/, (_, body) => json(201, section('s3', (body as Section).name, 4096))],
  ]);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      if (sectionGate && init.method === 'PATCH' && url.includes('/sections/')) {
        heldPatches += 1;
        await sectionGate;
      }
      return api.fetch(url, init);
    }),
  );
});

afterEach(async () => {
  await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

async function renderBoard() {
  await workspace.projects.load();
  const result = renderAt(`/tasks?project=${P}&view=board`, withWorkspace(workspace, <TasksPage />));
  await screen.findByRole('heading', { level: 1, name: 'Home' });
  await screen.findByRole('region', { name: 'Doing' });
  return result;
}

const column = (name: string) => screen.getByRole('list', { name: `${name} tasks` });
const titlesIn = (name: string) =>
  within(column(name))
    .queryAllByRole('link')
    .map((link) => link.textContent);
const announced = () => document.querySelector('[aria-live="assertive"]')!.textContent;
const columnNames = () => screen.getAllByRole('region').map((region) => region.getAttribute('aria-label'));
const sectionWrites = () => api.calls.filter((c) => c.method === 'PATCH' && c.url.includes('/sections/'));

describe('BoardPage', () => {
  it('shows a column per section after "No section", cards in manual order', async () => {
    seed('Write', null, 2000);
    seed('Plan', null, 1000);
    seed('Cook', 's1', 1000);
    await renderBoard();

    await waitFor(() => expect(titlesIn('No section')).toEqual(['Plan', 'Write']));
    expect(titlesIn('Doing')).toEqual(['Cook']);
    expect(titlesIn('Done')).toEqual([]);
    expect(screen.getByRole('link', { name: 'Board' })).toHaveAttribute('aria-current', 'page');
  });

  it('moves a card with the keyboard: pick up, arrows, drop; PATCH with If-Match', async () => {
    const write = seed('Write', null, 2000);
    seed('Cook', 's1', 1000);
    await renderBoard();
    const move = await screen.findByRole('button', { name: 'Move Write' });

    move.focus();
    await userEvent.keyboard('{Enter}');
    expect(move).toHaveAttribute('aria-pressed', 'true');
    expect(announced()).toMatch(/^Picked up Write: No section, position 1 of 1\./);
    await userEvent.keyboard('{ArrowRight}');
    expect(announced()).toBe('Doing, position 1 of 2');
    await userEvent.keyboard('{ArrowDown}');
    expect(announced()).toBe('Doing, position 2 of 2');
    await userEvent.keyboard('{Enter}');

    await waitFor(() => expect(titlesIn('Doing')).toEqual(['Cook', 'Write']));
    expect(announced()).toBe('Dropped Write: Doing, position 2 of 2.');
    await waitFor(() => expect(server.tasks.get(write.id)).toEqual(expect.objectContaining({ section_id: 's1' })));
    expect(server.writes()).toEqual([
      expect.objectContaining({ method: 'PATCH', ifMatch: 3, body: { section_id: 's1', position: 1000 + 1024 } }),
    ]);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Move Write' })).toHaveFocus());
  });

  it('Escape cancels a keyboard move and sends nothing', async () => {
    seed('Write', null, 2000);
    await renderBoard();
    const move = await screen.findByRole('button', { name: 'Move Write' });

    move.focus();
    await userEvent.keyboard('{Enter}{ArrowRight}{ArrowRight}{Escape}');

    expect(announced()).toBe('Move of Write cancelled.');
    expect(move).toHaveAttribute('aria-pressed', 'false');
    expect(titlesIn('No section')).toEqual(['Write']);
    expect(server.writes()).toEqual([]);
  });

  it('moves a card dropped with the pointer (HTML5 drag and drop) to the end of a column', async () => {
    const write = seed('Write', null, 2000);
    seed('Done already', 's2', 500);
    await renderBoard();
    const card = (await screen.findByRole('link', { name: 'Write' })).closest('li')!;

    fireEvent.dragStart(card, { dataTransfer: { setData: vi.fn(), effectAllowed: '' } });
    const done = screen.getByRole('region', { name: 'Done' });
    fireEvent.dragOver(done, { dataTransfer: { dropEffect: '' } });
    fireEvent.drop(done, { dataTransfer: {} });
    fireEvent.dragEnd(card);

    await waitFor(() => expect(titlesIn('Done')).toEqual(['Done already', 'Write']));
    await waitFor(() =>
      expect(server.tasks.get(write.id)).toEqual(expect.objectContaining({ section_id: 's2', position: 500 + 1024 })),
    );
  });

  it('adds a section, and new tasks go into the project', async () => {
    await renderBoard();

    await userEvent.type(screen.getByRole('textbox', { name: 'New section' }), 'Later{Enter}');
    expect(await screen.findByRole('region', { name: 'Later' })).toBeInTheDocument();

    await userEvent.type(screen.getByRole('textbox', { name: 'New task' }), 'Fix tap{Enter}');
    await waitFor(() => expect(titlesIn('No section')).toEqual(['Fix tap']));
    await waitFor(() =>
      expect(server.writes()[0]).toEqual(
        expect.objectContaining({ method: 'POST', body: expect.objectContaining({ title: 'Fix tap', project_id: P }) }),
      ),
    );
  });

  it('moves a section left from the keyboard: PATCH with If-Match, announced, focus kept', async () => {
    await renderBoard();
    const left = screen.getByRole('button', { name: 'Move section Done left' });

    left.focus();
    await userEvent.keyboard('{Enter}');

    expect(columnNames()).toEqual(['No section', 'Done', 'Doing']);
    expect(announced()).toBe('Moved Done left: section 1 of 2.');
    await waitFor(() =>
      expect(sectionWrites()).toEqual([
        expect.objectContaining({ url: `/api/v1/projects/${P}/sections/s2`, body: { position: 0 }, ifMatch: '"v1"' }),
      ]),
    );
    expect(screen.getByRole('button', { name: 'Move section Done left' })).toHaveFocus();
    expect(screen.getByRole('button', { name: 'Move section Done left' })).toHaveAttribute('aria-disabled', 'true');
  });

  it("sends two quick moves one after the other, the second against the first one's version", async () => {
    sections = [...SECTIONS, section('s3', 'Later', 4096)];
    let answer: () => void = () => undefined;
    sectionGate = new Promise((resolve) => (answer = resolve));
    await renderBoard();
    const left = screen.getByRole('button', { name: 'Move section Later left' });

    left.focus();
    await userEvent.keyboard('{Enter}{Enter}');

    expect(columnNames()).toEqual(['No section', 'Later', 'Doing', 'Done']);
    expect(heldPatches).toBe(1); // the second waits for the first's answer
    answer();
    await waitFor(() =>
      expect(sectionWrites().map((c) => [c.body, c.ifMatch])).toEqual([
        [{ position: 1024 + 512 }, '"v1"'],
        [{ position: 0 }, '"v2"'],
      ]),
    );
    await waitFor(() => expect(columnNames()).toEqual(['No section', 'Later', 'Doing', 'Done']));
    expect(screen.getByRole('button', { name: 'Move section Later left' })).toHaveFocus();
  });

  it('puts a section back where it was when the server refuses the move, and says why', async () => {
    refuseSectionPatch = () => problemJson(403, 'forbidden', 'You need the editor role to change sections.');
    let answer: () => void = () => undefined;
    sectionGate = new Promise((resolve) => (answer = resolve));
    await renderBoard();

    screen.getByRole('button', { name: 'Move section Doing right' }).focus();
    await userEvent.keyboard('{Enter}');
    expect(columnNames()).toEqual(['No section', 'Done', 'Doing']);
    expect(screen.getByRole('button', { name: 'Move section Doing right' })).toHaveFocus();
    answer();

    expect(await screen.findByText(/^Section Doing is back where it was: You need the editor role/)).toHaveAttribute(
      'role',
      'alert',
    );
    expect(columnNames()).toEqual(['No section', 'Doing', 'Done']);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Move section Doing right' })).toHaveFocus());
  });

  it('does not move a section past the ends, and says so', async () => {
    await renderBoard();
    const left = screen.getByRole('button', { name: 'Move section Doing left' });
    expect(left).toHaveAttribute('aria-disabled', 'true');

    left.focus();
    await userEvent.keyboard('{Enter}');

    expect(announced()).toBe('Doing is already the first section.');
    expect(left).toHaveFocus();
    expect(columnNames()).toEqual(['No section', 'Doing', 'Done']);
    expect(sectionWrites()).toEqual([]);
  });

  it('lets a viewer look but not move', async () => {
    role = 'viewer';
    seed('Write', null, 2000);
    await renderBoard();

    expect(await screen.findByRole('checkbox', { name: 'Complete Write' })).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Move Write' })).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'New task' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Move section/ })).not.toBeInTheDocument();
  });
});
