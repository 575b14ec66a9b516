// Web Locks where the browser has them (all current ones), so tabs take turns.

export function withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  // request() resolves with the callback's (awaited) result.
  return locks ? (locks.request(name, task) as Promise<unknown> as Promise<T>) : task();
}
