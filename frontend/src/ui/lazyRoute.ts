// React.lazy for route chunks, with one reload when a chunk is gone after a new deployment
// (the old page asks for hashed files the server no longer has).
import { lazy, type ComponentType } from 'react';

const RELOAD_FLAG = 'taskwell:chunk-reload';

export function lazyRoute<P extends object>(load: () => Promise<{ default: ComponentType<P> }>) {
  return lazy(async () => {
    try {
      const module = await load();
      sessionStorage.removeItem(RELOAD_FLAG);
      return module;
    } catch (error) {
      if (navigator.onLine && !sessionStorage.getItem(RELOAD_FLAG)) {
        sessionStorage.setItem(RELOAD_FLAG, '1');
        window.location.reload();
      }
      throw error;
    }
  });
}
