// Single-key shortcuts that stay out of the way of typing.
import { useEffect, useRef } from 'react';
import { isDialogOpen } from './Dialog';

const TEXT_INPUTS = new Set([
  'text',
  'search',
  'email',
  'password',
  'number',
  'url',
  'tel',
  'date',
  'datetime-local',
  'time',
  'month',
  'week',
]);

/** True when a key press is meant for the element it happened in, not for a shortcut. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
    return true;
  return target instanceof HTMLInputElement && TEXT_INPUTS.has(target.type);
}

export type ShortcutMap = Record<string, (event: KeyboardEvent) => void>;

/** Keys are KeyboardEvent.key values ("n", "?", "Delete"). */
export function useShortcuts(map: ShortcutMap, enabled = true): void {
  const mapRef = useRef(map);
  mapRef.current = map;
  useEffect(() => {
    if (!enabled) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target) || isDialogOpen()) return;
      const handler = mapRef.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler(event);
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [enabled]);
}
