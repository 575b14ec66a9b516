// A stand-in for the browser's EventSource: records what was opened, and lets a test send
// events, fail the stream, and see whether it was closed.
import type { EventStream } from '../live/LiveSync';

type Listener = (event: MessageEvent<string>) => void;

export class FakeEventSource implements EventStream {
  static opened: FakeEventSource[] = [];

  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }

  static get last(): FakeEventSource {
    const stream = FakeEventSource.opened.at(-1);
    if (!stream) throw new Error('no stream was opened');
    return stream;
  }

  static reset(): void {
    FakeEventSource.opened = [];
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  /** The server sends an event (`data` as JSON unless already a string). */
  emit(type: string, data: unknown, id = ''): void {
    const event = new MessageEvent(type, {
      data: typeof data === 'string' ? data : JSON.stringify(data),
      lastEventId: id,
    });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  /** The connection broke, or the server ended or refused it. */
  fail(): void {
    this.onerror?.(new Event('error'));
  }
}
