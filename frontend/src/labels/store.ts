// The caller's labels (each person has their own): loaded once, kept for offline use.
import { ApiError, NetworkError, messageOf } from '../api/http';
import { createLabel, deleteLabel, listLabels, patchLabel } from '../api/labels';
import type { Label, LabelChanges } from '../api/types';
import { ExternalStore } from '../lib/externalStore';
import { RemoteLog, mergeAll, mergeById, type RemoteBatch } from '../lib/remote';
import { loadList, saveList } from '../offline/cache';

export interface LabelsState {
  labels: readonly Label[];
  loaded: boolean;
  /** Showing the copy saved on this device because the server could not be reached. */
  fromCache: boolean;
  error: string | null;
}

const CACHE_KEY = 'labels';

const byName = (a: Label, b: Label) => a.name.localeCompare(b.name);

export class LabelStore extends ExternalStore<LabelsState> {
  private loading: Promise<void> | null = null;
  private readonly remote = new RemoteLog<RemoteBatch<Label>>();

  /** `dropFromTasks`: takes a deleted label off the tasks this device shows. */
  constructor(private readonly dropFromTasks: (labelId: string) => void = () => undefined) {
    super({ labels: [], loaded: false, fromCache: false, error: null });
  }

  byId(id: string): Label | undefined {
    return this.state.labels.find((label) => label.id === id);
  }

  load(): Promise<void> {
    this.loading ??= this.fetch().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  async ensureLoaded(): Promise<void> {
    if (!this.state.loaded) await this.load();
  }

  private async fetch(): Promise<void> {
    try {
      const [answer, missed] = await this.remote.track(() => listLabels());
      this.setLabels(mergeAll(answer, missed));
      this.set({ loaded: true, fromCache: false, error: null });
    } catch (error) {
      const cached = error instanceof NetworkError ? await loadList<Label>(CACHE_KEY).catch(() => undefined) : null;
      if (cached) this.set({ labels: cached, loaded: true, fromCache: true });
      else this.set({ error: messageOf(error) });
    }
  }

  async create(name: string, color: string | null = null): Promise<Label> {
    const label = await createLabel(name, color);
    // Live sync may have brought it already.
    this.setLabels(mergeById(this.state.labels, { upserts: [label], deletes: [] }));
    return label;
  }

  /** Rename or recolour, against the version shown here (If-Match). */
  async update(id: string, changes: LabelChanges): Promise<Label> {
    let label: Label;
    try {
      label = await patchLabel(id, changes, this.byId(id)?.version ?? null);
    } catch (error) {
      this.afterRefusal(id, error);
      throw error;
    }
    // Live sync may have brought a newer copy, or the deletion, meanwhile.
    this.setLabels(this.state.labels.map((l) => (l.id === id && label.version >= l.version ? label : l)));
    return label;
  }

  /** Delete, against the version shown here; the label leaves every task. */
  async remove(id: string): Promise<void> {
    try {
      await deleteLabel(id, this.byId(id)?.version ?? null);
    } catch (error) {
      // Deleted elsewhere already: what the person asked for.
      if (!(error instanceof ApiError && error.status === 404)) {
        this.afterRefusal(id, error);
        throw error;
      }
    }
    this.forget(id);
  }

  /** 404: it is gone; 412: changed elsewhere, so show what it is now before another try. */
  private afterRefusal(id: string, error: unknown): void {
    if (!(error instanceof ApiError)) return;
    if (error.status === 404) this.forget(id);
    else if (error.status === 412) void this.load();
  }

  private forget(id: string): void {
    this.setLabels(this.state.labels.filter((l) => l.id !== id));
    this.dropFromTasks(id);
  }

  /** Labels changed on another device (live sync). */
  applyRemote(batch: RemoteBatch<Label>): void {
    this.remote.record(batch);
    if (this.state.loaded) this.setLabels(mergeById(this.state.labels, batch));
  }

  private setLabels(labels: readonly Label[]): void {
    const sorted = [...labels].sort(byName);
    this.set({ labels: sorted });
    void saveList(CACHE_KEY, sorted).catch(() => undefined);
  }
}
