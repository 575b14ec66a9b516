// The members of a project (names for comments, choices for the assignee); null while unknown.
import { useEffect, useState } from 'react';
import { listMembers } from '../api/projects';
import type { Member } from '../api/types';

export function useMembers(projectId: string | undefined): readonly Member[] | null {
  const [members, setMembers] = useState<readonly Member[] | null>(null);
  useEffect(() => {
    setMembers(null);
    if (!projectId) return;
    let current = true;
    listMembers(projectId)
      .then((items) => current && setMembers(items))
      .catch(() => undefined); // offline or refused: names fall back, the assignee stays as is
    return () => {
      current = false;
    };
  }, [projectId]);
  return members;
}
