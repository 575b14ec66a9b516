// Entry: error reporting first, then the app; the service worker and web-vitals load after.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { AuthProvider } from './auth/AuthContext';
import { installErrorReporting } from './rum/errors';
import { routeTemplate } from './rum/route';
import './styles/app.css';

installErrorReporting();
const landingRoute = routeTemplate(window.location.pathname);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AuthProvider>
      <App />
    </AuthProvider>
  </StrictMode>,
);

// Off the critical path: neither is needed to show the first screen.
void import('./rum/vitals').then(({ startVitals }) => startVitals(landingRoute));
if (import.meta.env.PROD) void import('./pwa/register').then(({ startServiceWorker }) => startServiceWorker());
