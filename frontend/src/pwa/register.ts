// The service worker, registered from a bundled module (the CSP allows no inline script).
import { registerSW } from 'virtual:pwa-register';
import { noteUpdate } from './update';

export function startServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  registerSW({
    immediate: true,
    onNeedReload: noteUpdate,
    onRegisterError(error: unknown) {
      console.warn('Service worker registration failed', error);
    },
  });
  // A hook for end-to-end tests and the curious: the shell is cached and served offline.
  void navigator.serviceWorker.ready.then(() => {
    document.documentElement.dataset.sw = 'ready';
  });
}
