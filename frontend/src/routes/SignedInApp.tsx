// The signed-in shell: navigation, sync status, shortcuts, conflicts, and the task screens.
import { Suspense, useEffect, useState } from 'react';
import { Link, Route, Switch, useRoute } from 'wouter';
import { messageOf } from '../api/http';
import { useAuth, useUser } from '../auth/AuthContext';
import { Reminders } from '../live/Reminders';
import { loadSyncToken, rememberUser } from '../offline/cache';
import { ConflictDialog } from '../offline/ConflictDialog';
import { SyncIndicator } from '../offline/SyncIndicator';
import { ProjectSidebar } from '../projects/ProjectSidebar';
import { WorkspaceContext, openWorkspace, type Workspace } from '../tasks/workspace';
import { lazyRoute } from '../ui/lazyRoute';
import { PageHeading } from '../ui/PageHeading';
import { ShortcutsDialog } from '../ui/ShortcutsDialog';
import { useShortcuts } from '../ui/shortcuts';

const TasksPage = lazyRoute(() => import('./TasksPage'));
const TaskDetailPage = lazyRoute(() => import('./TaskDetailPage'));
const SettingsPage = lazyRoute(() => import('./SettingsPage'));

function NavLink({ href, children }: { href: string; children: string }) {
  const [active] = useRoute(href);
  return (
    <Link href={href} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function NotFound() {
  return (
    <div className="page narrow">
      <PageHeading title="Not found">Page not found</PageHeading>
      <p>
        <Link href="/tasks">Go to your tasks</Link>
      </p>
    </div>
  );
}

function useOpenWorkspace(userId: string): { workspace: Workspace | null; error: string | null } {
  const user = useUser();
  const [workspace, setWorkspace] = useState<Workspace | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop: (() => void) | undefined;
    let stopLive: (() => void) | undefined;
    let cancelled = false;
    rememberUser(user)
      .then(openWorkspace)
      .then((opened) => {
        if (cancelled) return;
        // Read before the screens load: live sync catches up from there, so no change made
        // elsewhere falls between what they load and where it starts.
        const token = loadSyncToken().catch(() => undefined);
        stop = opened.sync.start();
        setWorkspace(opened);
        Promise.all([token, import('../live/start')])
          .then(([resumeFrom, { startLive }]) => {
            if (!cancelled) stopLive = startLive(opened, resumeFrom);
          })
          .catch(() => undefined); // no live updates; reloading the page still shows the news
      })
      .catch(() =>
        setError(
          'This browser does not let Taskwell store data (IndexedDB), so it cannot work offline or queue changes.',
        ),
      );
    return () => {
      cancelled = true;
      stop?.();
      stopLive?.();
    };
    // The workspace belongs to one person; a profile edit must not rebuild it.
  }, [userId]);
  // Keep the copy used to open the app offline current (e.g. a new display name).
  useEffect(() => {
    if (workspace) void rememberUser(user);
  }, [workspace, user]);
  // A deletion waiting for its undo toast is queued when the page goes away.
  useEffect(() => {
    if (!workspace) return;
    const onHide = () => void workspace.list.commitDelete();
    window.addEventListener('pagehide', onHide);
    return () => window.removeEventListener('pagehide', onHide);
  }, [workspace]);
  return { workspace, error };
}

function LogOutButton({ workspace }: { workspace: Workspace }) {
  const auth = useAuth();
  const [error, setError] = useState<string | null>(null);

  async function logOut() {
    setError(null);
    // Logging out wipes this device's copy, queue included: send what is queued first.
    await workspace.list.commitDelete();
    await workspace.sync.sync();
    if (workspace.queue.snapshot().length > 0) {
      setError('Some changes are not saved to the server yet. Connect (and answer any conflict), then log out.');
      return;
    }
    await auth.logOut();
  }

  return (
    <>
      <button
        type="button"
        className="button small"
        onClick={() => void logOut().catch((failure: unknown) => setError(messageOf(failure)))}
      >
        Log out
      </button>
      {error && (
        <p role="alert" className="form-error header-error">
          {error}
        </p>
      )}
    </>
  );
}

export default function SignedInApp() {
  const { state } = useAuth();
  // Unmounted by the router once signed out; render nothing in between.
  return state.status === 'signed-in' ? <Shell /> : null;
}

function Shell() {
  const user = useUser();
  const { workspace, error } = useOpenWorkspace(user.id);
  const [showShortcuts, setShowShortcuts] = useState(false);
  useShortcuts({ '?': () => setShowShortcuts(true) });

  if (!workspace) {
    return <p className={error ? 'form-error page' : 'loading'}>{error ?? 'Loading…'}</p>;
  }
  return (
    <WorkspaceContext.Provider value={workspace}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="app-header">
        <nav aria-label="Main" className="nav">
          <Link href="/tasks" className="brand">
            Taskwell
          </Link>
          {/* Plain links, not a list: on the task screen every listitem is a task. */}
          <div className="nav-links">
            <NavLink href="/tasks">Tasks</NavLink>
            <NavLink href="/settings">Settings</NavLink>
          </div>
          <SyncIndicator />
          <span className="who" title={user.email}>
            {user.display_name || user.email}
          </span>
          <button
            type="button"
            className="button small quiet"
            onClick={() => setShowShortcuts(true)}
            aria-keyshortcuts="?"
          >
            Shortcuts
          </button>
          <LogOutButton workspace={workspace} />
        </nav>
      </header>
      <div className="layout">
        <ProjectSidebar />
        <main id="main" tabIndex={-1}>
          <Suspense fallback={<p className="loading">Loading…</p>}>
            <Switch>
              <Route path="/tasks" component={TasksPage} />
              <Route path="/tasks/:id" component={TaskDetailPage} />
              <Route path="/settings" component={SettingsPage} />
              <Route component={NotFound} />
            </Switch>
          </Suspense>
        </main>
      </div>
      <Reminders />
      <ConflictDialog />
      {showShortcuts && <ShortcutsDialog onClose={() => setShowShortcuts(false)} />}
    </WorkspaceContext.Provider>
  );
}
