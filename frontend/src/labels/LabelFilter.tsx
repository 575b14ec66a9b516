// Label chips above the list: each toggles "tasks with this label" (any of the chosen ones).
import { useEffect, useSyncExternalStore } from 'react';
import { useWorkspace } from '../tasks/workspace';
import { ColorDot } from '../ui/ColorDot';

interface LabelFilterProps {
  selected: readonly string[];
  onChange(labels: string[]): void;
}

export function LabelFilter({ selected, onChange }: LabelFilterProps) {
  const { labels } = useWorkspace();
  const state = useSyncExternalStore(labels.subscribe, labels.getState);
  useEffect(() => void labels.ensureLoaded(), [labels]);
  if (state.labels.length === 0) return null;
  const toggle = (id: string) => onChange(selected.includes(id) ? selected.filter((l) => l !== id) : [...selected, id]);
  return (
    <div role="group" aria-label="Labels" className="chips">
      {state.labels.map((label) => (
        <button
          key={label.id}
          type="button"
          className="chip"
          aria-pressed={selected.includes(label.id)}
          onClick={() => toggle(label.id)}
        >
          <ColorDot color={label.color} />
          {label.name}
        </button>
      ))}
    </div>
  );
}
