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
});
