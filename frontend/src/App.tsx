// Routes. Each screen is its own chunk: the login and register screens load no task code.
import { Suspense, useEffect, useRef } from 'react';
import { Redirect, Route, Switch, useLocation } from 'wouter';
import { useAuth } from './auth/AuthContext';
import { ErrorBoundary } from './ui/ErrorBoundary';
import { lazyRoute } from './ui/lazyRoute';
import { markNavigation } from './ui/routeFocus';
import { reloadIfUpdated } from './pwa/update';
import { noteRoute } from './rum/route';

const LoginPage = lazyRoute(() => import('./routes/LoginPage'));
const RegisterPage = lazyRoute(() => import('./routes/RegisterPage'));
const SignedInApp = lazyRoute(() => import('./routes/SignedInApp'));

function Loading() {
  return (
    <p className="loading" aria-live="polite">
      Loading…
    </p>
  );
}

function useNavigationTracking(): void {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    noteRoute(location);
    if (first.current) {
      first.current = false;
      return;
    }
    if (!reloadIfUpdated()) markNavigation();
  }, [location]);
}

export function App() {
  const { state } = useAuth();
  useNavigationTracking();
  if (state.status === 'loading') return <Loading />;
  const signedIn = state.status === 'signed-in';
  return (
    <ErrorBoundary>
      <Suspense fallback={<Loading />}>
        <Switch>
          <Route path="/login">{signedIn ? <Redirect to="/tasks" replace /> : <LoginPage />}</Route>
          <Route path="/register">{signedIn ? <Redirect to="/tasks" replace /> : <RegisterPage />}</Route>
          <Route path="/">{signedIn ? <Redirect to="/tasks" replace /> : <Redirect to="/login" replace />}</Route>
          <Route>{signedIn ? <SignedInApp /> : <Redirect to="/login" replace />}</Route>
        </Switch>
      </Suspense>
    </ErrorBoundary>
  );
}
