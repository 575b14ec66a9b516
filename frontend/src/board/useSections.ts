// A project's sections for its board: read online (the last copy offline), changed online,
// kept current with changes made elsewhere (live sync).
import { useCallback, useEffect, useState } from 'react';
import { NetworkError, messageOf } from '../api/http';
import { createSection, deleteSection, listSections, patchSection } from '../api/projects';
import type { Section } from '../api/types';
import { useReloadCount, withChange } from '../live/useRemote';
import { mergeById } from '../lib/remote';
import { loadList, saveList } from '../offline/cache';
import { useWorkspace } from '../tasks/workspace';

const byPosition = (a: Section, b: Section) => a.position - b.position;

export interface Sections {
  sections: readonly Section[] | null;
  error: string | null;
  add(name: string): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
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
  return { sections, error, add, rename, remove };
}
