// The label store: changes made elsewhere, also while the list is on its way.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Label } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import { json, problemJson } from '../test/fixtures';
import { LabelStore } from './store';

const label = (id: string, name: string, version = 1): Label => ({
  id,
  name,
  color: null,
  version,
  created_at: '',
  updated_at: '',
});

beforeEach(() => setCsrfToken('csrf'));

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB();
});

describe('LabelStore', () => {
  it('takes changes made elsewhere in name order, ignoring late echoes', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { items: [label('w', 'Work', 2), label('h', 'Home')] })),
    );
    const store = new LabelStore();
    await store.load();

    store.applyRemote({ upserts: [label('a', 'Admin'), label('w', 'Work (old)', 1)], deletes: ['h'] });

    expect(store.getState().labels.map((l) => l.name)).toEqual(['Admin', 'Work']);
  });

  it('replays onto a list on its way the changes that came meanwhile', async () => {
    let answer: (response: Response) => void = () => undefined;
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const store = new LabelStore();
    const loading = store.load();

    store.applyRemote({ upserts: [label('n', 'New')], deletes: ['h'] });
    answer(json(200, { items: [label('h', 'Home')] }));
    await loading;

    expect(store.getState().labels.map((l) => l.name)).toEqual(['New']);
  });

  it('lists a label made here once when live sync told of it before the answer came', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { items: [] })),
    );
    const store = new LabelStore();
    await store.load();
    let answer: (response: Response) => void = () => undefined;
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const creating = store.create('Errand');

    store.applyRemote({ upserts: [label('e', 'Errand')], deletes: [] });
    answer(json(201, label('e', 'Errand')));
    await creating;

    expect(store.getState().labels.map((l) => l.name)).toEqual(['Errand']);
  });

  it('renames against the version it shows, keeping a newer copy live sync brought meanwhile', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { items: [label('w', 'Work', 2)] })),
    );
    const store = new LabelStore();
    await store.load();
    let answer: (response: Response) => void = () => undefined;
    const fetch = vi.fn((_url: string, _init: RequestInit) => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal('fetch', fetch);
    const renaming = store.update('w', { name: 'Job' });

    store.applyRemote({ upserts: [label('w', 'Office', 4)], deletes: [] });
    answer(json(200, label('w', 'Job', 3)));
    await renaming;

    expect(new Headers(fetch.mock.calls[0]![1].headers).get('If-Match')).toBe('"v2"');
    expect(store.getState().labels.map((l) => [l.name, l.version])).toEqual([['Office', 4]]);
  });

  it('takes a deleted label off the tasks, also one deleted elsewhere first (404)', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { items: [label('h', 'Home'), label('w', 'Work')] })),
    );
    const dropped: string[] = [];
    const store = new LabelStore((id) => dropped.push(id));
    await store.load();
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => (url.endsWith('/h') ? json(204, null) : problemJson(404, 'label-not-found'))),
    );

    await store.remove('h');
    await store.remove('w');

    expect(store.getState().labels).toEqual([]);
    expect(dropped).toEqual(['h', 'w']);
  });
});
