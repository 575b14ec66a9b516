// Live sync's controller: catch-up paging, fresh starts and 410s, the stream's events, and
// reconnecting with a bounded exponential back-off.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError } from '../api/http';
import type { Change, SyncPage } from '../api/types';
import { FakeEventSource } from '../test/fakeEventSource';
import { FIRST_RETRY_MS, LiveSync, MAX_RETRY_MS, type LiveDeps } from './LiveSync';

const upsert = (id: string, title = id): Change => ({ entity: 'task', id, op: 'upsert', data: { id, title } });
const page = (token: string, changes: Change[] = [], has_more = false): SyncPage => ({ changes, token, has_more });
const expired = () =>
  new ApiError(410, { type: 'urn:taskwell:problem:sync-expired', title: 'Sync expired', status: 410 });

let online: boolean;
let deps: LiveDeps & {
  fetchChanges: ReturnType<typeof vi.fn<(since: string | null) => Promise<SyncPage>>>;
  apply: ReturnType<typeof vi.fn<(changes: readonly Change[]) => void>>;
};
let live: LiveSync;
let stop: (() => void) | undefined;
/** Everything the controller did, in order: to check what comes before what. */
let log: string[];

beforeEach(() => {
  FakeEventSource.reset();
  online = true;
  log = [];
  deps = {
    fetchChanges: vi.fn(async (since: string | null) => {
      log.push(`sync ${since}`);
      return page(since === null ? 'fresh' : `${since}+`);
    }),
    openStream: vi.fn((token: string) => {
      log.push(`open ${token}`);
      return new FakeEventSource(`/api/v1/events?since=${token}`);
    }),
    initialToken: 't0',
    saveToken: vi.fn(async (token: string) => void log.push(`save ${token}`)),
    apply: vi.fn((changes: readonly Change[]) => void log.push(`apply ${changes.map((c) => c.id).join(',')}`)),
    reloadAll: vi.fn(() => void log.push('reload')),
    isOnline: () => online,
    random: () => 1, // no jitter: each wait is the back-off itself
    onState: vi.fn(),
  };
});

afterEach(() => {
  stop?.();
  stop = undefined;
  vi.useRealTimers();
});

function start(overrides: Partial<LiveDeps> = {}): LiveSync {
  live = new LiveSync({ ...deps, ...overrides });
  stop = live.start();
  return live;
}

const streamOpened = (count = 1) => vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(count));

describe('catching up', () => {
  it('pages through GET /sync from the stored token, then opens the stream from the last one', async () => {
    deps.fetchChanges
      .mockImplementationOnce(async () => page('t1', [upsert('a')], true))
      .mockImplementationOnce(async () => page('t2', [upsert('b')]));

    start();
    await streamOpened();

    expect(deps.fetchChanges.mock.calls).toEqual([['t0'], ['t1']]);
    expect(deps.apply.mock.calls).toEqual([[[upsert('a')]], [[upsert('b')]]]);
    expect(deps.saveToken).toHaveBeenLastCalledWith('t2');
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=t2');
    expect(deps.reloadAll).not.toHaveBeenCalled();
  });

  it('without a stored token takes a fresh one first, then reads everything again', async () => {
    start({ initialToken: undefined });
    await streamOpened();

    expect(log).toEqual(['sync null', 'save fresh', 'reload', 'open fresh']);
  });

  it('reads everything again from a fresh token when the stored one expired (410)', async () => {
    deps.fetchChanges.mockRejectedValueOnce(expired());

    start();
    await streamOpened();

    expect(deps.fetchChanges.mock.calls).toEqual([['t0'], [null]]);
    expect(deps.reloadAll).toHaveBeenCalledTimes(1);
    expect(deps.apply).not.toHaveBeenCalled();
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=fresh');
  });

  it('treats a token the server does not know (400 invalid-cursor) like an expired one', async () => {
    deps.fetchChanges.mockRejectedValueOnce(
      new ApiError(400, { type: 'urn:taskwell:problem:invalid-cursor', title: 'Invalid cursor', status: 400 }),
    );

    start();
    await streamOpened();

    expect(deps.reloadAll).toHaveBeenCalledTimes(1);
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=fresh');
  });
});

describe('the stream', () => {
  beforeEach(async () => {
    start();
    await streamOpened();
    log = [];
  });

  it('applies "changes" events and keeps their token', () => {
    FakeEventSource.last.emit('changes', { changes: [upsert('x')], token: 't5' }, 't5');

    expect(log).toEqual(['apply x', 'save t5']);
  });

  it('says it is live once "ready" comes', () => {
    FakeEventSource.last.emit('ready', { token: 't6' }, 't6');

    expect(deps.onState).toHaveBeenLastCalledWith('live');
    expect(deps.saveToken).toHaveBeenLastCalledWith('t6');
  });

  it('on "resync" reads everything again and follows on from its token, stream open', () => {
    FakeEventSource.last.emit('resync', { reason: 'expired', token: 't9' }, 't9');

    expect(log).toEqual(['save t9', 'reload']);
    expect(FakeEventSource.last.closed).toBe(false);
  });

  it('never skips a message it cannot read: it catches up from the last token instead', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const stream = FakeEventSource.last;
    stream.emit('changes', { changes: [upsert('x')], token: 't5' }, 't5');

    stream.emit('changes', 'not JSON', 't6');

    expect(stream.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(FIRST_RETRY_MS);
    expect(deps.fetchChanges).toHaveBeenLastCalledWith('t5');
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=t5+');
  });
});

describe('reconnecting', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });

  /** Fail the open stream, then tell how long until the next one opens (ms). */
  async function failAndTimeReconnect(): Promise<number> {
    const count = FakeEventSource.opened.length;
    FakeEventSource.last.fail();
    expect(FakeEventSource.last.closed).toBe(true);
    let waited = 0;
    while (FakeEventSource.opened.length === count) {
      await vi.advanceTimersByTimeAsync(250);
      waited += 250;
      if (waited > MAX_RETRY_MS * 2) throw new Error('never reconnected');
    }
    return waited;
  }

  it('after the stream fails, catches up with GET /sync before reopening', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    FakeEventSource.last.emit('changes', { changes: [upsert('x')], token: 't3' }, 't3');
    log = [];

    await failAndTimeReconnect();

    expect(log).toEqual(['sync t3', 'save t3+', 'open t3+']);
  });

  it('backs off exponentially while streams keep failing, up to a bound', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);

    const waits: number[] = [];
    for (let i = 0; i < 9; i += 1) waits.push(await failAndTimeReconnect());

    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('starts again from the first delay once a stream got "ready"', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    await failAndTimeReconnect();
    await failAndTimeReconnect();
    FakeEventSource.last.emit('ready', { token: 'r' }, 'r');

    expect(await failAndTimeReconnect()).toBe(FIRST_RETRY_MS);
  });

  it('spreads the waits with jitter (half to all of the back-off)', async () => {
    start({ random: () => 0 });
    await vi.advanceTimersByTimeAsync(0);

    expect(await failAndTimeReconnect()).toBe(500);
    expect(await failAndTimeReconnect()).toBe(1_000);
  });

  it('retries a catch-up the server did not answer, with the same back-off', async () => {
    deps.fetchChanges.mockRejectedValueOnce(new NetworkError('offline')).mockRejectedValueOnce(new NetworkError('x'));
    start();

    await vi.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.opened).toHaveLength(0);
    expect(deps.onState).toHaveBeenLastCalledWith('waiting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeEventSource.opened).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2_000);

    expect(FakeEventSource.opened).toHaveLength(1);
    expect(deps.fetchChanges).toHaveBeenCalledTimes(3);
  });

  it('closes when the browser goes offline, and catches up at once on resume', async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    const stream = FakeEventSource.last;

    online = false;
    window.dispatchEvent(new Event('offline'));
    expect(stream.closed).toBe(true);
    expect(deps.onState).toHaveBeenLastCalledWith('offline');
    await vi.advanceTimersByTimeAsync(MAX_RETRY_MS);
    expect(FakeEventSource.opened).toHaveLength(1); // nothing tried while offline

    online = true;
    live.resume();
    await vi.advanceTimersByTimeAsync(0);

    expect(FakeEventSource.opened).toHaveLength(2);
    expect(deps.fetchChanges).toHaveBeenLastCalledWith('t0+');
  });

  it('drops a catch-up overtaken by a newer one', async () => {
    let answerFirst: (page: SyncPage) => void = () => undefined;
    deps.fetchChanges.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    start();
    await vi.advanceTimersByTimeAsync(0);

    live.resume(); // e.g. back online while the first request hangs
    await vi.advanceTimersByTimeAsync(0);
    answerFirst(page('stale', [upsert('old')]));
    await vi.advanceTimersByTimeAsync(0);

    expect(deps.apply).not.toHaveBeenCalled();
    expect(FakeEventSource.opened.map((s) => s.url)).toEqual(['/api/v1/events?since=t0+']);
  });
});

describe('stopping', () => {
  it('closes the stream, ignores what still arrives and never reconnects', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    start();
    await vi.advanceTimersByTimeAsync(0);
    const stream = FakeEventSource.last;

    stop!();
    stream.emit('changes', { changes: [upsert('late')], token: 'late' }, 'late');
    stream.fail();
    await vi.advanceTimersByTimeAsync(MAX_RETRY_MS * 2);

    expect(stream.closed).toBe(true);
    expect(deps.apply).not.toHaveBeenCalled();
    expect(deps.saveToken).not.toHaveBeenCalledWith('late');
    expect(FakeEventSource.opened).toHaveLength(1);
    expect(deps.onState).toHaveBeenLastCalledWith('stopped');
  });
});
