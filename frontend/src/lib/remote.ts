// Changes made elsewhere (live sync) meeting the lists a store loads from the server.

interface Versioned {
  id: string;
  version: number;
}

/** A batch of another device's changes to one kind of thing. */
export interface RemoteBatch<T> {
  upserts: readonly T[];
  deletes: readonly string[];
}

/**
 * Remote changes applied while a list request was out, to replay onto its answer: the server
 * may have read that answer before them, and showing it as it came would undo them on screen
 * with nothing left to redo them (the stream has moved past).
 */
export class RemoteLog<B> {
  private log: B[] = [];
  private out = 0;
  private count = 0;

  /** Await a list request: its answer, and the batches applied while it was out. */
  async track<T>(request: () => Promise<T>): Promise<[T, B[]]> {
    const mark = this.count;
    this.out += 1;
    let answer: T;
    try {
      answer = await request();
    } catch (error) {
      this.end(mark);
      throw error;
    }
    return [answer, this.end(mark)];
  }

  /** A batch was applied now (kept only while a request is out). */
  record(batch: B): void {
    this.count += 1;
    if (this.out > 0) this.log.push(batch);
  }

  private end(mark: number): B[] {
    const missed = this.log.slice(this.log.length - (this.count - mark));
    this.out -= 1;
    if (this.out === 0) this.log = [];
    return missed;
  }
}

/**
 * `items` with the batch applied: a newer (or same) version replaces its copy in place, an
 * unknown one is added at the end, deletions go. An older version than the one held is an
 * echo that arrived late and is ignored, so a copy never steps back.
 */
export function mergeById<T extends Versioned>(items: readonly T[], batch: RemoteBatch<T>): T[] {
  const deleted = new Set(batch.deletes);
  const incoming = new Map(batch.upserts.map((item) => [item.id, item]));
  const merged = items
    .filter((item) => !deleted.has(item.id))
    .map((item) => {
      const remote = incoming.get(item.id);
      incoming.delete(item.id);
      return remote && remote.version >= item.version ? remote : item;
    });
  return [...merged, ...[...incoming.values()].filter((item) => !deleted.has(item.id))];
}

/** `items` with each batch applied in order. */
export function mergeAll<T extends Versioned>(items: readonly T[], batches: readonly RemoteBatch<T>[]): T[] {
  return batches.reduce<T[]>((current, batch) => mergeById(current, batch), [...items]);
}
