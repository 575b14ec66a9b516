/**
 * The task list: pages loaded from the cursor API (or, offline, from the last-seen copy),
 * kept current by the queue's sync events; and the actions a person takes on it.
 *
 * Deleting hides the task at once and shows an Undo toast; the deletion is queued only when
 * the toast expires (or is dismissed, or the page is left). Undo therefore never has to
 * recreate anything: the task keeps its id, dates and history, and the worst a lost toast
 * can do is leave a task undeleted. No data is lost on any path.
 */
import { NetworkError, messageOf } from '../api/http';
import type { ListParams } from '../api/tasks';
import type { Task, TaskChanges, TaskCreateBody, TaskPage } from '../api/types';
import type { CachedPage } from '../offline/db';
import { applyPending } from '../offline/overlay';
import type { OfflineQueue, SyncEvent } from '../offline/queue';
import { RemoteLog } from '../lib/remote';
import { DEFAULT_FILTERS, filtersToSearch, listParams, type Filters } from './filters';
import { matchesFilters, queryLocally } from './localQuery';
import { mergeRemoteTasks, type RemoteTasks } from './remote';

export const UNDO_MS = 5_000;

export interface ListState {
  filters: Filters;
  items: readonly Task[];
  nextCursor: string | null;
  loading: 'idle' | 'first' | 'more';
  error: string | null;
  /** Showing the copy saved on this device because the server could not be reached. */
  fromCache: boolean;
  /** Tasks whose deletion waits for the undo toast to expire. */
  hidden: ReadonlySet<string>;
  toast: { id: string; title: string } | null;
  /** Something the queue could not deliver, shown in an alert. */
  notice: string | null;
}

export interface ListDeps {
  listTasks(params: ListParams, signal?: AbortSignal): Promise<TaskPage>;
  savePage(key: string, items: readonly Task[], nextCursor: string | null): Promise<void>;
  loadPage(key: string): Promise<CachedPage | undefined>;
  /** Every task seen on this device (for views never loaded online). */
  loadAllTasks(): Promise<Task[]>;
  saveTask(task: Task): Promise<void>;
  forgetTask(id: string): Promise<void>;
  /** Ask for the queue to be replayed (now, if online). */
  sync(): void;
}

interface PendingDelete {
  task: Task;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class TaskListStore {
  private state: ListState = {
    filters: DEFAULT_FILTERS,
    items: [],
    nextCursor: null,
    loading: 'idle',
    error: null,
    fromCache: false,
    hidden: new Set(),
    toast: null,
    notice: null,
  };
  private loaded = false;
  private generation = 0;
  private pendingDelete: PendingDelete | null = null;
  private turn: Promise<unknown> = Promise.resolve();
  private readonly remote = new RemoteLog<RemoteTasks>();
  private readonly listeners = new Set<() => void>();
  /** Server id -> the local ref it had, so a synced task keeps its React key (and focus). */
  private readonly localKeys = new Map<string, string>();

  constructor(
    private readonly queue: OfflineQueue,
    private readonly deps: ListDeps,
  ) {
    queue.onSynced((event) => this.onSynced(event));
  }

  readonly getState = (): ListState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  keyOf(id: string): string {
    return this.localKeys.get(id) ?? id;
  }

  /** The server id of a task created offline, once the server has it. */
  serverIdOf(ref: string): string | undefined {
    for (const [id, local] of this.localKeys) if (local === ref) return id;
    return undefined;
  }

  // --- loading ------------------------------------------------------------------------

  async setFilters(filters: Filters): Promise<void> {
    if (this.loaded && filtersToSearch(filters) === filtersToSearch(this.state.filters)) return;
    await this.load(filters);
  }

  /** Load the current view again (e.g. back online); nothing if the list was never shown. */
  async reload(): Promise<void> {
    if (this.loaded) await this.load(this.state.filters);
  }

  private async load(filters: Filters): Promise<void> {
    const generation = ++this.generation;
    this.loaded = true;
    this.set({ filters, loading: 'first', error: null });
    const key = filtersToSearch(filters);
    try {
      const page = await this.fetchPage(listParams(filters), filters);
      if (generation !== this.generation) return;
      this.set({ items: page.items, nextCursor: page.next_cursor, loading: 'idle', fromCache: false });
      void this.deps.savePage(key, page.items, page.next_cursor);
    } catch (error) {
      if (generation !== this.generation) return;
      const cached = error instanceof NetworkError ? await this.offlineItems(filters) : undefined;
      if (generation !== this.generation) return;
      if (cached) {
        this.set({ items: cached, nextCursor: null, loading: 'idle', fromCache: true });
      } else {
        this.set({ items: [], nextCursor: null, loading: 'idle', error: messageOf(error), fromCache: false });
      }
    }
  }

  /** Offline: the last page seen for this exact view, else the query run over every task
   * this device has seen. */
  private async offlineItems(filters: Filters): Promise<readonly Task[]> {
    const page = await this.deps.loadPage(filtersToSearch(filters)).catch(() => undefined);
    if (page) return page.items;
    return queryLocally(await this.deps.loadAllTasks().catch(() => []), filters);
  }

  async loadMore(): Promise<void> {
    const { nextCursor, loading, filters } = this.state;
    if (!nextCursor || loading !== 'idle') return;
    const generation = this.generation;
    this.set({ loading: 'more', error: null });
    try {
      const page = await this.fetchPage({ ...listParams(filters), cursor: nextCursor }, filters);
      if (generation !== this.generation) return;
      const seen = new Set(this.state.items.map((t) => t.id));
      const items = [...this.state.items, ...page.items.filter((t) => !seen.has(t.id))];
      this.set({ items, nextCursor: page.next_cursor, loading: 'idle' });
      void this.deps.savePage(filtersToSearch(filters), items, page.next_cursor);
    } catch (error) {
      if (generation === this.generation) this.set({ loading: 'idle', error: messageOf(error) });
    }
  }

  /** A page from the server with the changes from elsewhere that came while it was out. */
  private async fetchPage(params: ListParams, filters: Filters): Promise<TaskPage> {
    const [page, missed] = await this.remote.track(() => this.deps.listTasks(params));
    const view = { filters, complete: page.next_cursor === null };
    const items = missed.reduce<Task[]>((current, batch) => mergeRemoteTasks(current, batch, view), page.items);
    return { ...page, items };
  }

  // --- changes made elsewhere (live sync) -------------------------------------------------

  /** Another device's changes: the list shows the server's copies (queued changes stay on
   * top, see useTaskView), and this device's offline copy follows. */
  applyRemote(batch: RemoteTasks): void {
    this.remote.record(batch);
    // While a view's first page is out, the items shown are another view's: the page gets
    // the batch when it comes.
    if (this.loaded && this.state.loading !== 'first') {
      const view = { filters: this.state.filters, complete: this.state.nextCursor === null };
      this.setItems(mergeRemoteTasks(this.state.items, batch, view));
    }
    for (const task of batch.upserts) void this.deps.saveTask(task);
    for (const id of batch.deletes) void this.deps.forgetTask(id);
  }

  // --- actions ------------------------------------------------------------------------

  /** Queue a new task; `placement` says where (project, section, parent). Returns its ref. */
  async create(title: string, placement: Omit<TaskCreateBody, 'title'> = {}): Promise<string> {
    const ref = await this.inTurn(() => this.queue.create({ ...placement, title }));
    this.deps.sync();
    return ref;
  }

  async change(task: Task, changes: TaskChanges): Promise<void> {
    await this.inTurn(() => {
      const current = this.currentView(task);
      return this.queue.update(task.id, current.version || null, changes, current);
    });
    this.deps.sync();
  }

  /** Complete or reopen the task as it stands after the person's earlier actions: pressing
   * `x` three times quickly completes it, whatever the screen showed at each press. */
  async toggleComplete(task: Task): Promise<void> {
    await this.inTurn(() => {
      const current = this.currentView(task);
      const status = current.status === 'done' ? 'todo' : 'done';
      return this.queue.update(task.id, current.version || null, { status }, current);
    });
    this.deps.sync();
  }

  /** Actions reach the queue one after another, each seeing what the previous one queued
   * (a rendered task can be a change behind while the last one is still being stored). */
  private inTurn<T>(action: () => Promise<T>): Promise<T> {
    const run = this.turn.then(action);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** The task with the server's latest copy and every queued change applied. */
  private currentView(task: Task): Task {
    const key = this.keyOf(task.id);
    const latest = this.state.items.find((item) => this.keyOf(item.id) === key) ?? task;
    const view = applyPending([latest], this.queue.snapshot()).find((item) => this.keyOf(item.id) === key);
    return view ?? latest;
  }

  /** Hide the task and offer Undo; the deletion is queued when the toast goes. */
  requestDelete(task: Task): void {
    void this.commitDelete();
    this.pendingDelete = { task, timer: undefined };
    this.resumeUndoTimer();
    this.set({ hidden: new Set([...this.state.hidden, task.id]), toast: { id: task.id, title: task.title } });
  }

  undoDelete(): Task | null {
    const pending = this.pendingDelete;
    if (!pending) return null;
    clearTimeout(pending.timer);
    this.pendingDelete = null;
    const hidden = new Set(this.state.hidden);
    hidden.delete(pending.task.id);
    this.set({ hidden, toast: null });
    return pending.task;
  }

  /** Queue the deletion the toast was holding back (also on page hide). */
  async commitDelete(): Promise<void> {
    const pending = this.pendingDelete;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pendingDelete = null;
    this.set({ toast: null });
    const { task } = pending;
    await this.queue.remove(task.id, task.version || null, task);
    const hidden = new Set(this.state.hidden);
    hidden.delete(task.id);
    this.set({ hidden });
    this.deps.sync();
  }

  /** The toast stays while it has focus or the pointer (WCAG 2.2.1). */
  pauseUndoTimer(): void {
    if (this.pendingDelete) clearTimeout(this.pendingDelete.timer);
  }

  resumeUndoTimer(): void {
    const pending = this.pendingDelete;
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => void this.commitDelete(), UNDO_MS);
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  // --- the queue reports ---------------------------------------------------------------

  private onSynced(event: SyncEvent): void {
    const items = this.state.items;
    // The server's copy joins (or stays in) this view only if the server would list it here.
    const listed = matchesFilters(this.state.filters);
    if (event.kind === 'created') {
      this.localKeys.set(event.task.id, event.ref);
      const rest = items.filter((t) => t.id !== event.task.id);
      this.setItems(listed(event.task) ? [event.task, ...rest] : rest);
      void this.deps.saveTask(event.task);
    } else if (event.kind === 'updated') {
      const updated = items.map((t) => (t.id === event.task.id ? event.task : t));
      this.setItems(listed(event.task) ? updated : updated.filter((t) => t.id !== event.task.id));
      void this.deps.saveTask(event.task);
    } else if (event.kind === 'deleted' || event.kind === 'gone') {
      this.setItems(items.filter((t) => t.id !== event.taskId));
      void this.deps.forgetTask(event.taskId);
      if (event.kind === 'gone')
        this.set({ notice: 'A task you changed was deleted elsewhere; your change was dropped.' });
    } else {
      this.set({ notice: `A change could not be saved: ${event.message}` });
    }
  }

  private setItems(items: readonly Task[]): void {
    if (items.length === this.state.items.length && items.every((t, i) => t === this.state.items[i])) return;
    this.set({ items });
    if (!this.state.fromCache)
      void this.deps.savePage(filtersToSearch(this.state.filters), items, this.state.nextCursor);
  }

  private set(patch: Partial<ListState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
