// Pick a colour from the palette (or none); a colour set elsewhere stays offered.
import { useId } from 'react';
import { PALETTE } from './colors';

interface ColorSelectProps {
  name: string;
  defaultValue: string | null;
  label?: string;
}

export function ColorSelect({ name, defaultValue, label = 'Colour' }: ColorSelectProps) {
  const id = useId();
  const custom = defaultValue && !PALETTE.some((c) => c.value === defaultValue.toLowerCase());
  return (
    <div className="field compact">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={defaultValue?.toLowerCase() ?? ''}>
        <option value="">No colour</option>
        {custom && <option value={defaultValue.toLowerCase()}>Custom ({defaultValue})</option>}
        {PALETTE.map((color) => (
          <option key={color.value} value={color.value}>
            {color.name}
          </option>
        ))}
      </select>
    </div>
  );
}
