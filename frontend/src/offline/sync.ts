/**
 * When to replay the queue, and the one-word status the person sees.
 *
 * "Offline" while the browser says so or the last request got no answer; "Syncing…" while
 * ops wait or are being sent; "Synced" when the queue is empty. A lost connection is probed
 * with backoff; coming back triggers a session check, a flush and a reload of the list.
 */
import { onReachability } from '../api/http';
import type { FlushOutcome, OfflineQueue } from './queue';

export type SyncStatus = 'offline' | 'syncing' | 'synced';

export const SYNC_LABELS: Record<SyncStatus, string> = {
  offline: 'Offline',
  syncing: 'Syncing…',
  synced: 'Synced',
};

const FIRST_RETRY_MS = 2_000;
const MAX_RETRY_MS = 30_000;

export class SyncController {
  private browserOnline = typeof navigator === 'undefined' ? true : navigator.onLine;
  private reachable = true;
  private current: SyncStatus = 'synced';
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = FIRST_RETRY_MS;
  private handledFlush: Promise<FlushOutcome> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly reconnectListeners = new Set<() => void>();

  constructor(
    private readonly queue: OfflineQueue,
    /** Makes sure a CSRF token is held (fetches it, refreshing the session if needed). */
    private readonly ensureSession: () => Promise<void>,
  ) {}

  start(): () => void {
    const stops = [
      this.queue.subscribe(() => this.update()),
      onReachability((reachable) => this.setReachable(reachable)),
    ];
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    this.update();
    void this.sync();
    return () => {
      stops.forEach((stop) => stop());
      window.removeEventListener('online', this.handleOnline);
      window.removeEventListener('offline', this.handleOffline);
      clearTimeout(this.retryTimer);
    };
  }

  readonly status = (): SyncStatus => this.current;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Called after the connection came back and the queue was replayed. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Replay the queue now if the browser is online. */
  async sync(): Promise<FlushOutcome> {
    if (!this.browserOnline) return 'offline';
    clearTimeout(this.retryTimer);
    const flush = this.queue.flush();
    // Calls made while a flush runs join it: only the first plans what follows, or five quick
    // changes and one failure would double the backoff five times (2 s -> 30 s of "Syncing…").
    if (flush === this.handledFlush) return flush;
    this.handledFlush = flush;
    const outcome = await flush;
    if (outcome === 'offline' || outcome === 'retry-later') this.scheduleRetry();
    else this.retryDelay = FIRST_RETRY_MS;
    this.update();
    return outcome;
  }

  /** The person answered the conflict dialog. */
  async resolveConflict(choice: 'mine' | 'theirs'): Promise<void> {
    await this.queue.resolveConflict(choice);
    await this.sync();
  }

  private readonly handleOnline = (): void => {
    this.browserOnline = true;
    void this.reconnect();
  };

  private readonly handleOffline = (): void => {
    this.browserOnline = false;
    this.update();
  };

  private async reconnect(): Promise<void> {
    this.update();
    try {
      await this.ensureSession();
    } catch {
      this.scheduleRetry();
      return;
    }
    await this.sync();
    for (const listener of this.reconnectListeners) listener();
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    this.update();
    if (!reachable) this.scheduleRetry();
    else if (this.browserOnline) void this.reconnect();
  }

  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    if (!this.browserOnline) return; // the 'online' event will bring us back
    this.retryTimer = setTimeout(() => void this.probe(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
  }

  private async probe(): Promise<void> {
    if (this.queue.snapshot().length > 0) {
      await this.sync();
      return;
    }
    try {
      await this.ensureSession(); // any answer marks the server reachable again
    } catch {
      if (!this.reachable) this.scheduleRetry();
    }
  }

  private update(): void {
    let next: SyncStatus = 'synced';
    if (!this.browserOnline || !this.reachable) next = 'offline';
    else if (this.queue.snapshot().length > 0 || this.queue.isFlushing) next = 'syncing';
    if (next === this.current) return;
    this.current = next;
    for (const listener of this.listeners) listener();
  }
}
