// Vitals are batched: at most 20 per request, each with its route template.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushVitals, queueVital, VITALS_PATH } from './vitals';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('queueVital', () => {
  it('sends batches of at most 20 metrics in the contract shape', async () => {
    const beacon = vi.fn((_url: string, _body: Blob) => true);
    Object.defineProperty(navigator, 'sendBeacon', { configurable: true, value: beacon });

    for (let i = 0; i < 23; i += 1) queueVital({ name: 'CLS', value: i / 100, rating: 'good' }, '/tasks');
    flushVitals();

    expect(beacon).toHaveBeenCalledTimes(2);
    const bodies = await Promise.all(
      beacon.mock.calls.map(([, blob]) => blob.text().then((t) => JSON.parse(t) as { metrics: unknown[] })),
    );
    expect(bodies.map((b) => b.metrics.length)).toEqual([20, 3]);
    expect(bodies[0]!.metrics[0]).toEqual({ name: 'CLS', value: 0, rating: 'good', route: '/tasks' });
    expect(beacon.mock.calls[0]![0]).toBe(VITALS_PATH);
  });

  it('drops values the API would refuse, so they cannot sink a whole batch', () => {
    const beacon = vi.fn(() => true);
    Object.defineProperty(navigator, 'sendBeacon', { configurable: true, value: beacon });

    queueVital({ name: 'LCP', value: 700_000, rating: 'poor' }, '/tasks');
    queueVital({ name: 'INP', value: Number.NaN, rating: 'poor' }, '/tasks');
    flushVitals();

    expect(beacon).not.toHaveBeenCalled();
  });
});
