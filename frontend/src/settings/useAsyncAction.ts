// Run a request from a form: busy flag, the problem's detail on failure, a success note.
import { useCallback, useState } from 'react';
import { messageOf } from '../api/http';

export function useAsyncAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const run = useCallback(async (action: () => Promise<void>, success: string | null = null): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await action();
      setDone(success);
      return true;
    } catch (failure) {
      setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);

  return { busy, error, done, run };
}
