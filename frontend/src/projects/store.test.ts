// The project store: Inbox first, changes kept in the right list, positions between neighbours.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Project } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import { PROJECT_DEFAULTS, fakeApi, json } from '../test/fixtures';
import { ProjectStore } from './store';

function project(id: string, name: string, position: number, extra: Partial<Project> = {}): Project {
  return { ...PROJECT_DEFAULTS, id, name, position, ...extra };
}

let api: ReturnType<typeof fakeApi>;
let active: Project[];

beforeEach(() => {
  setCsrfToken('csrf');
  active = [project('b', 'Beta', 2048), project('i', 'Inbox', 0, { is_inbox: true }), project('a', 'Alpha', 1024)];
  api = fakeApi([
    ['GET', /\/projects\?archived=false$/, () => json(200, { items: active })],
    ['GET', /\/projects\?archived=true$/, () => json(200, { items: [] })],
    ['POST', /\/projects$/, (_, body) => json(201, project('n', (body as Project).name, 4096))],
    [
      'PATCH',
      /\/projects\/(\w+)$/,
      (m, body) => json(200, { ...active.find((p) => p.id === m[1]), ...(body as object), version: 2 }),
    ],
    ['DELETE', /\/projects\/(\w+)$/, () => json(204, null)],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB();
});

describe('ProjectStore', () => {
  it("lists the Inbox first, then by the caller's position", async () => {
    const store = new ProjectStore();
    await store.load();
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Alpha', 'Beta']);
    expect(store.inbox()?.id).toBe('i');
  });

  it('adds a created project at the end', async () => {
    const store = new ProjectStore();
    await store.load();
    await store.create('New', '#15803d');
    expect(api.calls.at(-1)).toEqual(
      expect.objectContaining({ method: 'POST', body: { name: 'New', color: '#15803d' } }),
    );
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Alpha', 'Beta', 'New']);
  });

  it('moves a project between its neighbours with one PATCH of its position', async () => {
    const store = new ProjectStore();
    await store.load();
    await store.move('b', -1);
    expect(api.calls.at(-1)).toEqual(expect.objectContaining({ method: 'PATCH', body: { position: 1024 - 1024 } }));
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Beta', 'Alpha']);
  });

  it('takes an archived project out of the sidebar, and a deleted one', async () => {
    const store = new ProjectStore();
    await store.load();
    await store.loadArchived();
    await store.update('a', { archived: true });
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Beta']);
    expect(store.getState().archived!.map((p) => p.name)).toEqual(['Alpha']);
    await store.remove('b');
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox']);
  });

  it('falls back to the copy saved on this device when offline', async () => {
    await new ProjectStore().load();
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    const offline = new ProjectStore();
    await offline.load();
    expect(offline.getState()).toEqual(expect.objectContaining({ fromCache: true, error: null }));
    expect(offline.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Alpha', 'Beta']);
  });

  it('takes changes made elsewhere: by version, each in the list it belongs to', async () => {
    const store = new ProjectStore();
    await store.load();
    await store.loadArchived();
    const alpha = store.byId('a')!;

    store.applyRemote({
      upserts: [
        project('s', 'Shared', 1536, { role: 'viewer' }),
        { ...alpha, name: 'Alpha (archived)', archived: true, version: 2 },
      ],
      deletes: ['b'],
    });
    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Shared']);
    expect(store.getState().archived!.map((p) => p.name)).toEqual(['Alpha (archived)']);

    store.applyRemote({ upserts: [{ ...alpha, name: 'A late echo', version: 1 }], deletes: [] });
    expect(store.getState().archived!.map((p) => p.name)).toEqual(['Alpha (archived)']);
  });

  it('replays onto a list on its way the changes that came meanwhile', async () => {
    let answer: (response: Response) => void = () => undefined;
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const store = new ProjectStore();
    const loading = store.load();

    store.applyRemote({ upserts: [project('a', 'Alpha, renamed', 1024, { version: 2 })], deletes: ['b'] });
    answer(json(200, { items: active })); // read before those changes
    await loading;

    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Alpha, renamed']);
  });

  it('lists a project made here once when live sync told of it before the answer came', async () => {
    const store = new ProjectStore();
    await store.load();
    let answer: (response: Response) => void = () => undefined;
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const creating = store.create('New', null);

    store.applyRemote({ upserts: [project('n', 'New', 4096)], deletes: [] });
    answer(json(201, project('n', 'New', 4096)));
    await creating;

    expect(store.getState().projects.map((p) => p.name)).toEqual(['Inbox', 'Alpha', 'Beta', 'New']);
  });
});
