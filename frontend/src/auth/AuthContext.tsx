/**
 * Who is signed in. On start the app asks the server (CSRF token, then /users/me); when the
 * server cannot be reached it falls back to the user saved on this device, so the app opens
 * offline. The offline store is imported only then, keeping it out of the login screens.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { fetchMe, logIn, logOut, type Credentials } from '../api/account';
import { ApiError, NetworkError, onSessionLost, probeSession } from '../api/http';
import type { User } from '../api/types';

export type AuthState =
  { status: 'loading' } | { status: 'signed-out' } | { status: 'signed-in'; user: User; offline: boolean };

export interface Auth {
  state: AuthState;
  logIn(credentials: Credentials): Promise<void>;
  logOut(): Promise<void>;
  /** The profile changed (display name, avatar). */
  setUser(user: User): void;
}

const AuthContext = createContext<Auth | null>(null);

async function boot(): Promise<AuthState> {
  try {
    if (!(await probeSession())) return { status: 'signed-out' };
    return { status: 'signed-in', user: await fetchMe(), offline: false };
  } catch (error) {
    if (!(error instanceof NetworkError)) return { status: 'signed-out' };
    const { cachedUser } = await import('../offline/cache');
    const user = await cachedUser().catch(() => undefined);
    return user ? { status: 'signed-in', user, offline: true } : { status: 'signed-out' };
  }
}

export function AuthProvider({ children, initial }: { children: ReactNode; initial?: AuthState }) {
  const [state, setState] = useState<AuthState>(initial ?? { status: 'loading' });

  useEffect(() => {
    onSessionLost(() => setState({ status: 'signed-out' }));
    if (!initial) void boot().then(setState);
  }, [initial]);

  const doLogIn = useCallback(async (credentials: Credentials) => {
    await logIn(credentials);
    setState({ status: 'signed-in', user: await fetchMe(), offline: false });
  }, []);

  const doLogOut = useCallback(async () => {
    try {
      await logOut();
    } catch (error) {
      // Already over on the server: finish here. Offline: say so, stay signed in.
      if (!(error instanceof ApiError && error.status === 401)) throw error;
    }
    const { forgetEverything } = await import('../offline/cache');
    await forgetEverything().catch(() => undefined);
    setState({ status: 'signed-out' });
  }, []);

  const setUser = useCallback((user: User) => {
    setState((current) => (current.status === 'signed-in' ? { ...current, user } : current));
  }, []);

  const value = useMemo(
    () => ({ state, logIn: doLogIn, logOut: doLogOut, setUser }),
    [state, doLogIn, doLogOut, setUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}

/** The signed-in user (for screens that only render when someone is signed in). */
export function useUser(): User {
  const { state } = useAuth();
  if (state.status !== 'signed-in') throw new Error('useUser while signed out');
  return state.user;
}
