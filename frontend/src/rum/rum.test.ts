// Real-user monitoring: payloads within the API's limits, sent by beacon or keepalive fetch.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toReport } from './errors';
import { routeTemplate } from './route';
import { sendBeacon } from './send';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('routeTemplate', () => {
  it('names routes by template, never by id', () => {
    expect(routeTemplate('/tasks')).toBe('/tasks');
    expect(routeTemplate('/tasks/')).toBe('/tasks');
    expect(routeTemplate('/tasks/3f1c2a')).toBe('/tasks/:id');
    expect(routeTemplate('/settings')).toBe('/settings');
    expect(routeTemplate('/')).toBe('/');
    expect(routeTemplate('/wp-admin/x')).toBe('/other');
  });
});

describe('error reports', () => {
  it('fit the API limits', () => {
    const report = toReport({
      message: 'm'.repeat(5000),
      source: 's'.repeat(900),
      line: 12.7,
      column: -3,
      stack: 'x'.repeat(9000),
      route: '/tasks',
    });
    expect(report.message).toHaveLength(1000);
    expect(report.source).toHaveLength(500);
    expect(report.stack).toHaveLength(8000);
    expect(report).toEqual(expect.objectContaining({ line: 12, column: 0, route: '/tasks' }));
  });

  it('always have a message', () => {
    expect(toReport({}).message).toBe('Unknown error');
  });
});

describe('sendBeacon', () => {
  it('uses navigator.sendBeacon with a JSON body', async () => {
    const beacon = vi.fn(() => true);
    Object.defineProperty(navigator, 'sendBeacon', { configurable: true, value: beacon });
    vi.stubGlobal('fetch', vi.fn());

    sendBeacon('/api/v1/rum/vitals', { metrics: [{ name: 'LCP', value: 1200, rating: 'good', route: '/tasks' }] });

    const [url, blob] = beacon.mock.calls[0] as unknown as [string, Blob];
    expect(url).toBe('/api/v1/rum/vitals');
    expect(blob.type).toBe('application/json');
    expect(JSON.parse(await blob.text())).toEqual({
      metrics: [{ name: 'LCP', value: 1200, rating: 'good', route: '/tasks' }],
    });
    expect(fetch).not.toHaveBeenCalled();
  });

  it('falls back to fetch with keepalive when the beacon is refused', () => {
    Object.defineProperty(navigator, 'sendBeacon', { configurable: true, value: vi.fn(() => false) });
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);

    sendBeacon('/api/v1/rum/errors', { message: 'x' });

    expect(fetchMock).toHaveBeenCalledWith(
      '/api/v1/rum/errors',
      expect.objectContaining({ method: 'POST', keepalive: true }),
    );
  });
});
