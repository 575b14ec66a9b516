// Where the account is signed in; end one session or every other one.
import { useCallback, useEffect, useState } from 'react';
import { endSession, listSessions } from '../api/account';
import type { SessionInfo } from '../api/types';
import { formatDateTime } from '../tasks/format';
import { FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

// First match wins: Edge and Chrome also say "Safari", Android also says "Linux".
const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

function firstMatch(table: [RegExp, string][], text: string): string {
  return table.find(([pattern]) => pattern.test(text))?.[1] ?? '';
}

/** "Firefox on Linux" rather than a full user-agent string. */
export function describeAgent(userAgent: string): string {
  const browser = firstMatch(BROWSERS, userAgent);
  const os = firstMatch(SYSTEMS, userAgent);
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || userAgent.slice(0, 60) || 'Unknown device';
}

export function SessionsSection({ version }: { version: number }) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const { busy, error, done, run } = useAsyncAction();

  const refresh = useCallback(() => run(async () => setSessions(await listSessions())), [run]);
  useEffect(() => void refresh(), [refresh, version]);

  function endOthers() {
    void run(async () => {
      // Read afresh: a device may have signed in since the list was shown.
      const current = await listSessions();
      for (const session of current.filter((s) => !s.current)) await endSession(session.id);
      setSessions(await listSessions());
    }, 'Your other devices were logged out.');
  }

  function end(session: SessionInfo) {
    void run(async () => {
      await endSession(session.id);
      setSessions(await listSessions());
    }, 'Session ended.');
  }

  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      {sessions === null && !error && <p className="loading">Loading sessions…</p>}
      {sessions && (
        <ul className="plain-list">
          {sessions.map((session) => (
            <li key={session.id} className="session">
              <div>
                <strong>{describeAgent(session.user_agent)}</strong>
                {session.current && <span className="badge">This device</span>}
                <p className="muted">
                  {session.ip} · last active {formatDateTime(session.last_used_at)}
                </p>
              </div>
              {!session.current && (
                <button
                  type="button"
                  className="button small"
                  onClick={() => end(session)}
                  disabled={busy}
                  aria-label={`End session: ${describeAgent(session.user_agent)}, last active ${formatDateTime(session.last_used_at)}`}
                >
                  End session
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <FormError message={error} />
      <p aria-live="polite" className="success">
        {done ?? ''}
      </p>
      <button type="button" className="button danger" onClick={endOthers} disabled={busy}>
        Log out other devices
      </button>
    </section>
  );
}
