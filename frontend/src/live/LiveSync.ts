/**
 * Live sync: catch up from the last token with GET /sync, then follow GET /events (Server-Sent
 * Events) and apply each change as it comes.
 *
 * One path for every start: the stream is opened only right after a catch-up, and whenever it
 * ends or fails (the server draining, a 401 once the access cookie expired, a 429 for too many
 * open streams, the network) it is closed and the whole thing runs again after a back-off. The
 * catch-up goes through api/http.ts, which renews an expired session, something a stream can
 * only report as an error. Written by hand over the browser's EventSource: its own reconnect
 * neither refreshes the session nor backs off.
 */
import { ApiError } from '../api/http';
import type { Change, SyncPage } from '../api/types';

/** The part of EventSource used here (a fake one in tests). */
export interface EventStream {
  addEventListener(type: 'changes' | 'ready' | 'resync', listener: (event: MessageEvent<string>) => void): void;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

export type LiveState = 'connecting' | 'live' | 'waiting' | 'offline' | 'stopped';

export interface LiveDeps {
  /** GET /sync from `since`, or a fresh token without it. */
  fetchChanges(since: string | null): Promise<SyncPage>;
  openStream(token: string): EventStream;
  /** Where this device stopped last time, read before the screens loaded. */
  initialToken: string | undefined;
  saveToken(token: string): Promise<void>;
  apply(changes: readonly Change[]): void;
  /** Every list is to be read again (no token yet, or it expired). */
  reloadAll(): void;
  isOnline(): boolean;
  random(): number;
  onState(state: LiveState): void;
}

export const FIRST_RETRY_MS = 1_000;
export const MAX_RETRY_MS = 60_000;

/** The token is no use: too old (410 sync-expired) or not this server's (400 invalid-cursor). */
function isLostToken(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 410 || error.slug === 'invalid-cursor');
}

function parse<T>(data: string): T | null {
  try {
    const value: unknown = JSON.parse(data);
    return value !== null && typeof value === 'object' ? (value as T) : null;
  } catch {
    return null;
  }
}

export class LiveSync {
  private token: string | null;
  private stream: EventStream | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = FIRST_RETRY_MS;
  /** Bumped by every (re)connect, pause and stop: work begun under an older one is dropped. */
  private attempt = 0;
  private stopped = false;

  constructor(private readonly deps: LiveDeps) {
    this.token = deps.initialToken ?? null;
  }

  start(): () => void {
    window.addEventListener('offline', this.pause);
    void this.connect();
    return () => this.stop();
  }

  /** Back online, or the server answers again: catch up and reopen now. */
  resume(): void {
    this.retryDelay = FIRST_RETRY_MS;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.attempt += 1;
    this.close();
    window.removeEventListener('offline', this.pause);
    this.deps.onState('stopped');
  }

  /** The browser went offline: nothing to wait for until `resume`. */
  private readonly pause = (): void => {
    this.attempt += 1;
    this.close();
    this.deps.onState('offline');
  };

  private close(): void {
    clearTimeout(this.retryTimer);
    this.stream?.close();
    this.stream = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.close();
    const attempt = ++this.attempt;
    if (!this.deps.isOnline()) {
      this.deps.onState('offline');
      return;
    }
    this.deps.onState('connecting');
    let current: boolean;
    try {
      current = await this.catchUp(attempt);
    } catch {
      if (attempt === this.attempt) this.retry();
      return;
    }
    if (current) this.open(attempt);
  }

  /** GET /sync until nothing more is left; false when a newer attempt took over meanwhile. */
  private async catchUp(attempt: number): Promise<boolean> {
    for (;;) {
      if (this.token === null) return this.restart(attempt);
      let page: SyncPage;
      try {
        page = await this.deps.fetchChanges(this.token);
      } catch (error) {
        if (!isLostToken(error)) throw error;
        if (attempt !== this.attempt) return false;
        this.token = null;
        continue;
      }
      if (attempt !== this.attempt) return false;
      if (page.changes?.length) this.deps.apply(page.changes);
      this.keep(page.token);
      if (!page.has_more) return true;
    }
  }

  /** A fresh token first, then everything read again: nothing falls between the two. */
  private async restart(attempt: number): Promise<boolean> {
    const { token } = await this.deps.fetchChanges(null);
    if (!token) throw new Error('GET /sync gave no token');
    if (attempt !== this.attempt) return false;
    this.keep(token);
    this.deps.reloadAll();
    return true;
  }

  private open(attempt: number): void {
    let stream: EventStream;
    try {
      stream = this.deps.openStream(this.token!);
    } catch {
      this.retry();
      return;
    }
    this.stream = stream;
    const on = (type: 'changes' | 'ready' | 'resync', handle: (event: MessageEvent<string>) => boolean) =>
      stream.addEventListener(type, (event) => {
        // A message that cannot be read may hold changes: start again from the last token.
        if (attempt === this.attempt && !handle(event)) this.failed();
      });
    on('changes', (event) => {
      const body = parse<{ changes?: Change[]; token?: string }>(event.data);
      if (!Array.isArray(body?.changes)) return false;
      this.deps.apply(body.changes);
      this.keep(body.token || event.lastEventId);
      return true;
    });
    on('ready', (event) => {
      this.keep(parse<{ token?: string }>(event.data)?.token || event.lastEventId);
      this.retryDelay = FIRST_RETRY_MS;
      this.deps.onState('live');
      return true;
    });
    on('resync', (event) => {
      const token = parse<{ token?: string }>(event.data)?.token;
      if (!token) return false;
      this.keep(token);
      this.deps.reloadAll();
      return true;
    });
    stream.onerror = () => {
      if (attempt === this.attempt) this.failed();
    };
  }

  /** The stream ended or broke: catch up and reopen after a pause. */
  private failed(): void {
    this.attempt += 1;
    this.close();
    this.retry();
  }

  private retry(): void {
    clearTimeout(this.retryTimer);
    this.deps.onState('waiting');
    // Jitter: the tabs and people a server restart cut off do not all come back at once.
    const delay = this.retryDelay * (0.5 + this.deps.random() / 2);
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private keep(token: string | undefined): void {
    if (!token || token === this.token) return;
    this.token = token;
    void this.deps.saveToken(token).catch(() => undefined);
  }
}
