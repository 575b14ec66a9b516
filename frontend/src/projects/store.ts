/**
 * The caller's projects for the sidebar and every screen that names a project: loaded once,
 * kept on this device for offline use, changed online only (a project edit is rare and needs
 * the owner's rights checked by the server, so it is not queued like task edits).
 */
import { NetworkError, messageOf } from '../api/http';
import { createProject, deleteProject, listProjects, patchProject } from '../api/projects';
import type { Project, ProjectChanges } from '../api/types';
import { ExternalStore } from '../lib/externalStore';
import { positionBetween } from '../lib/positions';
import { RemoteLog, mergeAll, mergeById, type RemoteBatch } from '../lib/remote';
import { loadList, saveList } from '../offline/cache';

export interface ProjectsState {
  /** Active projects in the caller's order, the Inbox first. */
  projects: readonly Project[];
  /** Archived projects; null until asked for. */
  archived: readonly Project[] | null;
  loading: boolean;
  loaded: boolean;
  /** Showing the copy saved on this device because the server could not be reached. */
  fromCache: boolean;
  error: string | null;
}

const CACHE_KEY = 'projects';

/** The Inbox first, then the caller's order. */
function ordered(projects: readonly Project[]): Project[] {
  return [...projects].sort((a, b) => Number(b.is_inbox) - Number(a.is_inbox) || a.position - b.position);
}

export function canEdit(project: Project | undefined): boolean {
  return project !== undefined && project.role !== 'viewer';
}

export function isOwner(project: Project | undefined): boolean {
  return project?.role === 'owner';
}

export class ProjectStore extends ExternalStore<ProjectsState> {
  private loading: Promise<void> | null = null;
  private readonly remote = new RemoteLog<RemoteBatch<Project>>();

  constructor() {
    super({ projects: [], archived: null, loading: false, loaded: false, fromCache: false, error: null });
  }

  byId(id: string): Project | undefined {
    return this.state.projects.find((p) => p.id === id) ?? this.state.archived?.find((p) => p.id === id);
  }

  inbox(): Project | undefined {
    return this.state.projects.find((p) => p.is_inbox);
  }

  /** Load (or reload) the active projects; concurrent calls share one request. */
  load(): Promise<void> {
    this.loading ??= this.fetch().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Load unless loaded already. */
  async ensureLoaded(): Promise<void> {
    if (!this.state.loaded) await this.load();
  }

  private async fetch(): Promise<void> {
    this.set({ loading: true, error: null });
    try {
      const [answer, missed] = await this.remote.track(() => listProjects(false));
      const projects = ordered(mergeAll(answer, missed).filter((p) => !p.archived));
      this.set({ projects, loading: false, loaded: true, fromCache: false });
      void saveList(CACHE_KEY, projects).catch(() => undefined);
    } catch (error) {
      const cached = error instanceof NetworkError ? await loadList<Project>(CACHE_KEY).catch(() => undefined) : null;
      if (cached) this.set({ projects: cached, loading: false, loaded: true, fromCache: true });
      else this.set({ loading: false, error: messageOf(error) });
    }
  }

  async loadArchived(): Promise<void> {
    try {
      this.set({ archived: await listProjects(true), error: null });
    } catch (error) {
      this.set({ error: messageOf(error) });
    }
  }

  async create(name: string, color: string | null): Promise<Project> {
    const project = await createProject(name, color);
    // Live sync may have brought it already.
    this.setProjects(mergeById(this.state.projects, { upserts: [project], deletes: [] }));
    return project;
  }

  async update(id: string, changes: ProjectChanges): Promise<Project> {
    this.place(await patchProject(id, changes));
    return this.byId(id)!;
  }

  /** Move a project one place up or down in the caller's own sidebar order. */
  async move(id: string, step: -1 | 1): Promise<void> {
    const movable = this.state.projects.filter((p) => !p.is_inbox);
    const index = movable.findIndex((p) => p.id === id);
    const target = index + step;
    if (index < 0 || target < 0 || target >= movable.length) return;
    const rest = movable.filter((p) => p.id !== id);
    const position = positionBetween(rest[target - 1]?.position, rest[target]?.position);
    await this.update(id, { position });
  }

  /** To the trash (owner only). */
  async remove(id: string): Promise<void> {
    await deleteProject(id);
    this.forget(id);
  }

  /** A project the caller no longer sees (deleted, or they left it). */
  forget(id: string): void {
    this.setProjects(this.state.projects.filter((p) => p.id !== id));
    if (this.state.archived) this.set({ archived: this.state.archived.filter((p) => p.id !== id) });
  }

  /** Put the server's copy of a project in the list it now belongs to. */
  place(project: Project): void {
    const others = this.state.projects.filter((p) => p.id !== project.id);
    this.setProjects(project.archived ? others : [...others, project]);
    if (this.state.archived) {
      const archived = this.state.archived.filter((p) => p.id !== project.id);
      this.set({ archived: project.archived ? [...archived, project] : archived });
    }
  }

  /** Changes made elsewhere (live sync): each project lands in the list it now belongs to. */
  applyRemote(batch: RemoteBatch<Project>): void {
    this.remote.record(batch);
    if (!this.state.loaded) return; // the first load, on its way or not, reads them
    const { projects, archived } = this.state;
    const all = mergeById([...projects, ...(archived ?? [])], batch);
    this.setProjects(all.filter((p) => !p.archived));
    if (archived) this.set({ archived: all.filter((p) => p.archived) });
  }

  private setProjects(projects: readonly Project[]): void {
    const sorted = ordered(projects);
    this.set({ projects: sorted });
    void saveList(CACHE_KEY, sorted).catch(() => undefined);
  }
}
