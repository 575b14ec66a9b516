// Uncaught errors and unhandled rejections, reported to POST /api/v1/rum/errors.
import { currentRoute } from './route';
import { sendBeacon } from './send';

export const ERRORS_PATH = '/api/v1/rum/errors';
const MAX_REPORTS_PER_PAGE = 10;

export interface ErrorReport {
  message: string;
  source: string;
  line: number;
  column: number;
  stack: string;
  route: string;
}

const sent = new Set<string>();

function clip(value: unknown, max: number): string {
  return String(value ?? '').slice(0, max);
}

function whole(value: unknown): number {
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? Math.min(Math.floor(number), 10_000_000) : 0;
}

export function toReport(fields: Partial<Record<keyof ErrorReport, unknown>>): ErrorReport {
  return {
    message: clip(fields.message, 1000) || 'Unknown error',
    source: clip(fields.source, 500),
    line: whole(fields.line),
    column: whole(fields.column),
    stack: clip(fields.stack, 8000),
    route: clip(fields.route ?? currentRoute(), 200),
  };
}

/** Report once per distinct message, at most ten per page load (a loop must not flood). */
export function reportError(fields: Partial<Record<keyof ErrorReport, unknown>>): void {
  const report = toReport(fields);
  if (sent.size >= MAX_REPORTS_PER_PAGE || sent.has(report.message)) return;
  sent.add(report.message);
  sendBeacon(ERRORS_PATH, report);
}

export function installErrorReporting(): void {
  window.addEventListener('error', (event: ErrorEvent) => {
    const error: unknown = event.error;
    reportError({
      message: event.message || (error instanceof Error ? error.message : ''),
      source: event.filename,
      line: event.lineno,
      column: event.colno,
      stack: error instanceof Error ? error.stack : '',
    });
  });
  window.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    const reason: unknown = event.reason;
    reportError({
      message:
        reason instanceof Error ? `Unhandled rejection: ${reason.message}` : `Unhandled rejection: ${String(reason)}`,
      stack: reason instanceof Error ? reason.stack : '',
    });
  });
}
