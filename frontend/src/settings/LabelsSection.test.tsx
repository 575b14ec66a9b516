// The labels screen in settings against a faked API: rename, recolour and delete, each shown
// at once on the task list beside it (one label store), with If-Match and the API's refusals.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Label, LabelChanges } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import TasksPage from '../routes/TasksPage';
import { FakeServer, makeTask } from '../test/fakeServer';
import { fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import { LabelsSection } from './LabelsSection';

const label = (id: string, name: string, color: string | null = null, version = 1): Label => ({
  id,
  name,
  color,
  version,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
});

let server: FakeServer;
let workspace: Workspace & { dbName: string };
let labels: Label[];
let api: ReturnType<typeof fakeApi>;
/** The next PATCH's answer, when not the change applied. */
let refusePatch: (() => Response) | null;

function patched(id: string, changes: LabelChanges): Response {
  if (refusePatch) return refusePatch();
  const current = labels.find((l) => l.id === id)!;
  const updated = { ...current, ...changes, version: current.version + 1 };
  labels = labels.map((l) => (l.id === id ? updated : l));
  return json(200, updated);
}

beforeEach(async () => {
  setCsrfToken('csrf');
  server = new FakeServer();
  workspace = await testWorkspace(server);
  labels = [label('l1', 'Errand', null, 3), label('l2', 'Home', '#15803d'), label('l3', 'Work')];
  refusePatch = null;
  api = fakeApi([
    ['GET', /\/labels$/, () => json(200, { items: labels })],
    ['PATCH', /\/labels\/([^/]+)$/, (m, body) => patched(m[1]!, body as LabelChanges)],
    [
      'DELETE',
      /\/labels\/([^/]+)$/,
      (m) => {
        labels = labels.filter((l) => l.id !== m[1]);
        return json(204, null);
      },
    ],
    ['GET', /\/projects\?archived=false$/, () => json(200, { items: [] })],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(async () => {
  await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

/** The labels screen and the task list, sharing one workspace as they do in the app. */
async function renderBoth() {
  renderAt(
    '/tasks',
    withWorkspace(
      workspace,
      <>
        <LabelsSection />
        <TasksPage />
      </>,
    ),
  );
  const list = await screen.findByRole('list', { name: 'Your labels' });
  return within(list);
}

const taskRow = (title: string) =>
  screen.getByRole('checkbox', { name: `Complete ${title}` }).closest('li') as HTMLElement;
const chipsOf = (title: string) => [...taskRow(title).querySelectorAll('.badge.label')].map((c) => c.textContent);
const filterChips = () =>
  within(screen.getByRole('group', { name: 'Labels' }))
    .getAllByRole('button')
    .map((b) => b.textContent);
const writes = () => api.calls.filter((c) => c.method !== 'GET');

async function openEditor(name: string) {
  await userEvent.click(screen.getByRole('button', { name: `Edit label ${name}` }));
  return screen.getByRole('textbox', { name: 'Label name' });
}

describe('LabelsSection', () => {
  it('renames a label inline with If-Match; its task chip and filter show the new name at once', async () => {
    server.seed(makeTask({ title: 'Post letter', labels: ['l1', 'l2'] }));
    const rows = await renderBoth();
    expect(rows.getAllByRole('listitem').map((row) => row.querySelector('strong')!.textContent)).toEqual([
      'Errand',
      'Home',
      'Work',
    ]);
    await waitFor(() => expect(chipsOf('Post letter')).toEqual(['Errand', 'Home']));

    const name = await openEditor('Errand');
    expect(name).toHaveFocus();
    await userEvent.clear(name);
    await userEvent.type(name, '  Errands {Enter}');

    await waitFor(() => expect(chipsOf('Post letter')).toEqual(['Errands', 'Home']));
    expect(filterChips()).toEqual(['Errands', 'Home', 'Work']);
    expect(writes()).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        url: '/api/v1/labels/l1',
        body: { name: 'Errands' },
        ifMatch: '"v3"',
      }),
    ]);
    expect(screen.getByRole('button', { name: 'Edit label Errands' })).toHaveFocus();
    expect(screen.getByText('Label “Errand” renamed to “Errands”.')).toBeInTheDocument();
    expect(workspace.labels.byId('l1')).toEqual(expect.objectContaining({ name: 'Errands', version: 4 }));
  });

  it.each([
    ['   ', 'A label needs a name.'],
    ['x'.repeat(61), 'A label name can have at most 60 characters.'],
    ['Bills, taxes', 'A label name cannot contain a comma: commas separate labels in CSV files.'],
  ])('refuses the name %j without asking the API', async (typed, message) => {
    await renderBoth();
    const name = await openEditor('Work');

    await userEvent.clear(name);
    await userEvent.type(name, `${typed}{Enter}`);

    expect(await screen.findByText(message)).toHaveAttribute('role', 'alert');
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name).toHaveAccessibleDescription(message);
    expect(writes()).toEqual([]);
  });

  it('takes 60 characters once the spaces around them are trimmed', async () => {
    await renderBoth();
    const name = await openEditor('Work');

    await userEvent.clear(name);
    await userEvent.type(name, ` ${'x'.repeat(60)} {Enter}`);

    await waitFor(() => expect(writes()).toEqual([expect.objectContaining({ body: { name: 'x'.repeat(60) } })]));
  });

  it("shows the API's detail when it refuses, and keeps the form open", async () => {
    const detail = 'You already have the label "Home"; names that differ only in case name the same label.';
    refusePatch = () => problemJson(409, 'label-exists', detail);
    await renderBoth();
    const name = await openEditor('Work');

    await userEvent.clear(name);
    await userEvent.type(name, 'home{Enter}');

    expect(await screen.findByText(detail)).toHaveAttribute('role', 'alert');
    expect(screen.getByRole('textbox', { name: 'Label name' })).toHaveValue('home');
    expect(workspace.labels.byId('l3')!.name).toBe('Work');
  });

  it('reads the labels again after a 412 and says the label changed elsewhere', async () => {
    refusePatch = () => {
      labels = labels.map((l) => (l.id === 'l3' ? { ...l, name: 'Job', version: 2 } : l));
      return problemJson(412, 'version-mismatch', 'It was changed by someone else; send If-Match.');
    };
    await renderBoth();
    const name = await openEditor('Work');

    await userEvent.clear(name);
    await userEvent.type(name, 'Office{Enter}');

    expect(await screen.findByText(/changed elsewhere meanwhile/)).toBeInTheDocument();
    await waitFor(() => expect(workspace.labels.byId('l3')).toEqual(expect.objectContaining({ name: 'Job' })));
  });

  it('recolours: only the colour is sent, and "No colour" sends null', async () => {
    await renderBoth();

    await openEditor('Errand');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Colour' }), 'Blue');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Label “Errand” now Blue.');

    await openEditor('Home');
    expect(screen.getByRole('combobox', { name: 'Colour' })).toHaveDisplayValue('Green');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Colour' }), 'No colour');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() =>
      expect(writes().map((c) => [c.url, c.body])).toEqual([
        ['/api/v1/labels/l1', { color: '#1d4ed8' }],
        ['/api/v1/labels/l2', { color: null }],
      ]),
    );
    expect(screen.getByRole('button', { name: 'Edit label Home' })).toHaveFocus();
  });

  it('Escape closes the editor without sending, and gives the keyboard back to Edit', async () => {
    await renderBoth();
    const name = await openEditor('Home');

    await userEvent.type(name, 'Hearth{Escape}');

    expect(screen.queryByRole('textbox', { name: 'Label name' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Edit label Home' })).toHaveFocus();
    expect(writes()).toEqual([]);
  });

  it('deletes after a confirmation: the label leaves every task and the keyboard moves on', async () => {
    server.seed(makeTask({ title: 'Post letter', labels: ['l1', 'l2'] }));
    await renderBoth();
    await waitFor(() => expect(chipsOf('Post letter')).toEqual(['Errand', 'Home']));

    await userEvent.click(screen.getByRole('button', { name: 'Delete label Errand' }));
    expect(screen.getByRole('button', { name: 'Keep it' })).toHaveFocus();
    await userEvent.keyboard('{Enter}');
    expect(screen.getByRole('button', { name: 'Delete label Errand' })).toHaveFocus();
    expect(writes()).toEqual([]);

    await userEvent.click(screen.getByRole('button', { name: 'Delete label Errand' }));
    const confirm = screen.getByRole('group', { name: 'Delete label Errand?' });
    await userEvent.click(within(confirm).getByRole('button', { name: 'Yes, delete' }));

    await waitFor(() => expect(screen.queryByText('Errand', { selector: 'strong' })).not.toBeInTheDocument());
    expect(writes()).toEqual([
      expect.objectContaining({ method: 'DELETE', url: '/api/v1/labels/l1', ifMatch: '"v3"' }),
    ]);
    expect(screen.getByRole('button', { name: 'Edit label Home' })).toHaveFocus();
    expect(screen.getByText('Label “Errand” deleted.')).toBeInTheDocument();
    expect(chipsOf('Post letter')).toEqual(['Home']);
    expect(workspace.list.getState().items[0]!.labels).toEqual(['l2']);
  });

  it('shows a rename made on another device without a reload', async () => {
    server.seed(makeTask({ title: 'Post letter', labels: ['l1'] }));
    const rows = await renderBoth();
    await waitFor(() => expect(chipsOf('Post letter')).toEqual(['Errand']));

    act(() => workspace.labels.applyRemote({ upserts: [label('l1', 'Chores', null, 4)], deletes: [] }));

    expect(rows.getByRole('button', { name: 'Edit label Chores' })).toBeInTheDocument();
    expect(chipsOf('Post letter')).toEqual(['Chores']);
  });
});
