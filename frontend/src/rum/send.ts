// Fire-and-forget delivery that survives the page going away. sendBeacon sends no custom
// headers, so the RUM endpoints take neither a CSRF token nor a session.

export function sendBeacon(path: string, payload: unknown): void {
  const body = JSON.stringify(payload);
  try {
    const blob = new Blob([body], { type: 'application/json' });
    if (typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(path, blob)) return;
  } catch {
    // Some browsers refuse a non-form content type in a beacon: use fetch instead.
  }
  void fetch(path, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
    keepalive: true,
    credentials: 'same-origin',
  }).catch(() => undefined);
}
