// A project's sections for its board: read online (the last copy offline), changed online,
// kept current with changes made elsewhere (live sync). A move shows at once and goes back
// if the server refuses it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, NetworkError, messageOf } from '../api/http';
import { createSection, deleteSection, listSections, patchSection } from '../api/projects';
import type { Section } from '../api/types';
import { useReloadCount, withChange } from '../live/useRemote';
import { mergeById } from '../lib/remote';
import { loadList, saveList } from '../offline/cache';
import { useWorkspace } from '../tasks/workspace';

const byPosition = (a: Section, b: Section) => a.position - b.position;
const sorted = (items: readonly Section[]) => [...items].sort(byPosition);

export interface Sections {
  sections: readonly Section[] | null;
  error: string | null;
  add(name: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Show the section at `position` now and save it; back where it was if that fails. */
  move(id: string, position: number): Promise<void>;
}

/** The moves of one section still being saved. */
interface MovesInFlight {
  /** The server's last copy: what each move is sent against (If-Match) and what a refused
   * one goes back to. */
  saved: Section;
  count: number;
  /** Bumped by a refusal: the moves queued after it were made from a place that never was. */
  generation: number;
}

export function useSections(projectId: string): Sections {
  const [sections, setSections] = useState<readonly Section[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = `sections:${projectId}`;
  const { changes } = useWorkspace();
  const reloads = useReloadCount();

  useEffect(() => {
    let current = true;
    setSections(null);
    setError(null);
    listSections(projectId)
      .then((items) => {
        if (current) setSections(items);
        void saveList(key, items).catch(() => undefined);
      })
      .catch(async (failure: unknown) => {
        const cached = failure instanceof NetworkError ? await loadList<Section>(key).catch(() => undefined) : null;
        if (!current) return;
        if (cached) setSections(cached);
        else {
          setSections([]);
          setError(messageOf(failure));
        }
      });
    return () => {
      current = false;
    };
  }, [projectId, key, reloads]);

  const keep = useCallback(
    (next: (items: readonly Section[]) => readonly Section[]) =>
      setSections((items) => {
        const updated = next(items ?? []);
        void saveList(key, updated).catch(() => undefined);
        return updated;
      }),
    [key],
  );

  useEffect(
    () =>
      changes.subscribe('section', (change) =>
        setSections((items) => {
          if (items === null) return items; // the load under way reads it
          const updated = withChange(items, change, (section) => section.project_id === projectId);
          if (updated === items) return items;
          const sorted = [...updated].sort(byPosition);
          void saveList(key, sorted).catch(() => undefined);
          return sorted;
        }),
      ),
    [changes, projectId, key],
  );

  const add = useCallback(
    async (name: string) => {
      const section = await createSection(projectId, name);
      // Live sync may have brought it already.
      keep((items) => mergeById(items, { upserts: [section], deletes: [] }));
    },
    [projectId, keep],
  );
  const rename = useCallback(
    async (id: string, name: string) => {
      const section = await patchSection(projectId, id, { name });
      keep((items) => items.map((s) => (s.id === id ? section : s)));
    },
    [projectId, keep],
  );
  const remove = useCallback(
    async (id: string) => {
      await deleteSection(projectId, id);
      keep((items) => items.filter((s) => s.id !== id));
    },
    [projectId, keep],
  );
  const move = useSectionMoves(projectId, sections, keep);
  return { sections, error, add, rename, remove, move };
}

type Keep = (next: (items: readonly Section[]) => readonly Section[]) => void;

/**
 * Moves are sent one after another, each against the version the previous answer gave, so
 * two quick presses do not conflict with each other (as the offline queue does for cards).
 */
function useSectionMoves(projectId: string, sections: readonly Section[] | null, keep: Keep) {
  const shown = useRef(sections);
  shown.current = sections;
  const inFlight = useRef(new Map<string, MovesInFlight>());
  const chain = useRef<Promise<void>>(Promise.resolve());

  return useCallback(
    (id: string, position: number): Promise<void> => {
      const section = shown.current?.find((s) => s.id === id);
      if (!section) return Promise.resolve();
      const moves = inFlight.current.get(id) ?? { saved: section, count: 0, generation: 0 };
      inFlight.current.set(id, moves);
      moves.count += 1;
      const generation = moves.generation;
      keep((items) => sorted(items.map((s) => (s.id === id ? { ...s, position } : s))));

      const send = async () => {
        if (moves.generation !== generation) return;
        try {
          const answer = await patchSection(projectId, id, { position }, moves.saved.version);
          moves.saved = answer;
          // A later move already shows; its own answer comes next.
          if (moves.count === 1)
            keep((items) => sorted(items.map((s) => (s.id === id && answer.version >= s.version ? answer : s))));
        } catch (failure) {
          moves.generation += 1;
          const back = moves.saved;
          // Unless live sync brought a newer copy meanwhile.
          keep((items) => sorted(items.map((s) => (s.id === id && s.version <= back.version ? back : s))));
          if (failure instanceof ApiError && failure.status === 412) {
            void listSections(projectId)
              .then((fresh) => keep((items) => sorted(mergeById(items, { upserts: fresh, deletes: [] }))))
              .catch(() => undefined);
          }
          throw failure;
        } finally {
          moves.count -= 1;
          if (moves.count === 0) inFlight.current.delete(id);
        }
      };
      const result = chain.current.then(send);
      chain.current = result.catch(() => undefined);
      return result;
    },
    [projectId, keep],
  );
}
