// The labels of one task: a checkbox per label of the person's, and a new label made on the
// spot. Changes go through the task queue like any other edit.
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { messageOf } from '../api/http';
import type { Task } from '../api/types';
import { useWorkspace } from '../tasks/workspace';
import { ColorDot } from '../ui/ColorDot';
import { FormError } from '../ui/Field';
import { labelNameProblem } from './names';

interface LabelPickerProps {
  task: Task;
  editable: boolean;
  onChange(labels: string[]): void;
}

export function LabelPicker({ task, editable, onChange }: LabelPickerProps) {
  const { labels } = useWorkspace();
  const state = useSyncExternalStore(labels.subscribe, labels.getState);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  useEffect(() => void labels.ensureLoaded(), [labels]);
  const chosen = task.labels ?? [];

  async function add(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    // The API would refuse it (422); say why here, without a round trip.
    const problem = labelNameProblem(trimmed);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    try {
      const existing = state.labels.find((l) => l.name.toLowerCase() === trimmed.toLowerCase());
      const label = existing ?? (await labels.create(trimmed));
      if (!chosen.includes(label.id)) onChange([...chosen, label.id]);
      setName('');
    } catch (failure) {
      setError(messageOf(failure));
    }
  }

  if (!editable) {
    const names = state.labels.filter((l) => chosen.includes(l.id)).map((l) => l.name);
    return <p>{names.length ? names.join(', ') : <span className="muted">No labels.</span>}</p>;
  }
  return (
    <>
      <fieldset className="label-picker">
        <legend className="visually-hidden">Labels of this task</legend>
        {state.labels.length === 0 && <p className="muted small">No labels yet: make one below.</p>}
        {state.labels.map((label) => (
          <label key={label.id} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(label.id)}
              onChange={(event) =>
                onChange(event.target.checked ? [...chosen, label.id] : chosen.filter((id) => id !== label.id))
              }
            />
            <ColorDot color={label.color} />
            {label.name}
          </label>
        ))}
      </fieldset>
      <form className="row new-label" onSubmit={(event) => void add(event)}>
        <label htmlFor={inputId} className="visually-hidden">
          New label
        </label>
        <input
          id={inputId}
          value={name}
          maxLength={100}
          placeholder="New label"
          autoComplete="off"
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit" className="button small">
          Add label
        </button>
      </form>
      <FormError message={error} />
    </>
  );
}
