// Route templates for real-user monitoring: "/tasks/:id", never a task's id.

const KNOWN = new Set(['/', '/login', '/register', '/tasks', '/settings']);

export function routeTemplate(pathname: string): string {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (KNOWN.has(path)) return path;
  if (/^\/tasks\/[^/]+$/.test(path)) return '/tasks/:id';
  return '/other';
}

let current = typeof window === 'undefined' ? '/' : routeTemplate(window.location.pathname);

export function noteRoute(pathname: string): void {
  current = routeTemplate(pathname);
}

export function currentRoute(): string {
  return current;
}
