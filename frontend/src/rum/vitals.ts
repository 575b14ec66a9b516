// Core Web Vitals (web-vitals), batched and sent to POST /api/v1/rum/vitals when the page is
// hidden, when 20 are waiting, or a few seconds after the first one.
import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';
import { sendBeacon } from './send';

export const VITALS_PATH = '/api/v1/rum/vitals';
const MAX_BATCH = 20;
const FLUSH_AFTER_MS = 10_000;

export interface VitalReport {
  name: Metric['name'];
  value: number;
  rating: Metric['rating'];
  route: string;
}

let waiting: VitalReport[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;

function flush(): void {
  clearTimeout(timer);
  timer = undefined;
  while (waiting.length > 0) {
    sendBeacon(VITALS_PATH, { metrics: waiting.slice(0, MAX_BATCH) });
    waiting = waiting.slice(MAX_BATCH);
  }
}

/** The API refuses a batch holding an impossible value (over ten minutes): drop such values. */
const MAX_VALUE = 600_000;

export function queueVital(metric: Pick<Metric, 'name' | 'value' | 'rating'>, route: string): void {
  if (!Number.isFinite(metric.value) || metric.value < 0 || metric.value > MAX_VALUE) return;
  waiting.push({ name: metric.name, value: metric.value, rating: metric.rating, route });
  if (waiting.length >= MAX_BATCH) flush();
  else timer ??= setTimeout(flush, FLUSH_AFTER_MS);
}

/** `route` is the template of the page that loaded (LCP, FCP and TTFB belong to it). */
export function startVitals(route: string): void {
  const report = (metric: Metric) => queueVital(metric, route);
  onLCP(report);
  onINP(report);
  onCLS(report);
  onFCP(report);
  onTTFB(report);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  window.addEventListener('pagehide', flush);
}

export const flushVitals = flush;
