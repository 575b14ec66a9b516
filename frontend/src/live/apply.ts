// Live sync's changes applied to the app: the stores (tasks, projects, labels) and the
// reminders first, then the screens that listen on the hub.
import type { Change, FiredReminder, Label, Project, Task } from '../api/types';
import type { RemoteBatch } from '../lib/remote';
import type { RemoteTasks } from '../tasks/remote';
import type { Workspace } from '../tasks/workspace';

export type ApplyTargets = Pick<Workspace, 'queue' | 'list' | 'projects' | 'labels' | 'changes' | 'reminders'>;

interface Batches {
  tasks: { upserts: Task[]; deletes: string[]; goneProjects: string[]; goneLabels: string[] };
  projects: { upserts: Project[]; deletes: string[] };
  labels: { upserts: Label[]; deletes: string[] };
}

function sort(changes: readonly Change[], reminders: ApplyTargets['reminders']): Batches {
  const batches: Batches = {
    tasks: { upserts: [], deletes: [], goneProjects: [], goneLabels: [] },
    projects: { upserts: [], deletes: [] },
    labels: { upserts: [], deletes: [] },
  };
  const { tasks, projects, labels } = batches;
  for (const change of changes) {
    const upsert = change.op === 'upsert';
    if (change.entity === 'task') {
      if (upsert) tasks.upserts.push(change.data as Task);
      else tasks.deletes.push(change.id);
    } else if (change.entity === 'project') {
      if (upsert) {
        projects.upserts.push(change.data as Project);
      } else {
        projects.deletes.push(change.id);
        tasks.goneProjects.push(change.id);
      }
    } else if (change.entity === 'label') {
      if (upsert) {
        labels.upserts.push(change.data as Label);
      } else {
        labels.deletes.push(change.id);
        tasks.goneLabels.push(change.id);
      }
    } else if (change.entity === 'reminder' && upsert) {
      reminders.fired(change.data as FiredReminder);
    }
    // Sections and comments: only the screens showing them keep a copy (they listen on the hub).
  }
  return batches;
}

const isEmpty = (batch: RemoteBatch<unknown> | RemoteTasks) =>
  Object.values(batch).every((items: readonly unknown[]) => items.length === 0);

export class ChangeApplier {
  /** Task upserts held back while this device's own creates are on their way. */
  private readonly held = new Map<string, Change>();
  private readonly stopWatching: () => void;

  constructor(private readonly targets: ApplyTargets) {
    this.stopWatching = targets.queue.subscribe(() => this.release());
  }

  close(): void {
    this.stopWatching();
  }

  apply(changes: readonly Change[]): void {
    const now: Change[] = [];
    for (const change of changes) {
      if (change.entity === 'task') this.held.delete(change.id);
      if (this.mustHold(change)) this.held.set(change.id, change);
      else now.push(change);
    }
    this.route(now);
  }

  /**
   * A task this device does not show yet, while a create of its queue is on its way, may be
   * that very task with its answer still to come: shown now, it would stand beside the queued
   * copy ("local-…") until then. It is shown once no create is queued.
   */
  private mustHold(change: Change): boolean {
    if (change.entity !== 'task' || change.op !== 'upsert' || !this.creating()) return false;
    return !this.targets.list.getState().items.some((task) => task.id === change.id);
  }

  private creating(): boolean {
    return this.targets.queue.snapshot().some((op) => op.kind === 'create');
  }

  private release(): void {
    if (this.held.size === 0 || this.creating()) return;
    const held = [...this.held.values()];
    this.held.clear();
    this.route(held);
  }

  private route(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    const { tasks, projects, labels } = sort(changes, this.targets.reminders);
    const store = this.targets.projects;
    // A project new to this reader (just shared with them): its tasks predate the token.
    const shared = store.getState().loaded && projects.upserts.some((project) => !store.byId(project.id));
    if (!isEmpty(projects)) store.applyRemote(projects);
    if (!isEmpty(labels)) this.targets.labels.applyRemote(labels);
    if (!isEmpty(tasks)) this.targets.list.applyRemote(tasks);
    if (shared) void this.targets.list.reload();
    this.targets.changes.publish(changes);
  }
}
