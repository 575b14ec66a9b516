/**
 * The board as data: columns by section ("No section" first), and where a card goes when it
 * is moved with the keyboard or dropped with the pointer. A spot is a column and an index
 * among the column's *other* cards, so the card being moved never counts against itself.
 */
import type { Section } from '../api/types';
import { positionBetween } from '../lib/positions';
import type { ViewTask } from '../offline/overlay';

export interface Column {
  /** The section's id; null for "No section". */
  id: string | null;
  name: string;
  tasks: ViewTask[];
}

export interface Spot {
  column: number;
  index: number;
}

export const NO_SECTION = 'No section';

const byPosition = (a: { position: number; id: string }, b: { position: number; id: string }) =>
  a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Tasks whose section is unknown (deleted meanwhile) show under "No section". */
export function buildColumns(sections: readonly Section[], tasks: readonly ViewTask[]): Column[] {
  const columns: Column[] = [
    { id: null, name: NO_SECTION, tasks: [] },
    ...[...sections].sort(byPosition).map((section) => ({ id: section.id, name: section.name, tasks: [] })),
  ];
  const indexOf = new Map(columns.map((column, index) => [column.id, index]));
  for (const task of tasks) columns[indexOf.get(task.section_id) ?? 0]!.tasks.push(task);
  for (const column of columns) column.tasks.sort(byPosition);
  return columns;
}

/** Where the task is now, or null when it is not on the board. */
export function spotOf(columns: readonly Column[], taskId: string): Spot | null {
  for (let column = 0; column < columns.length; column += 1) {
    const index = columns[column]!.tasks.findIndex((task) => task.id === taskId);
    if (index >= 0) return { column, index };
  }
  return null;
}

/** The cards of a column other than the one being moved. */
export function othersIn(column: Column, taskId: string): ViewTask[] {
  return column.tasks.filter((task) => task.id !== taskId);
}

export type MoveKey = 'ArrowUp' | 'ArrowDown' | 'ArrowLeft' | 'ArrowRight' | 'Home' | 'End';

export const MOVE_KEYS: ReadonlySet<string> = new Set([
  'ArrowUp',
  'ArrowDown',
  'ArrowLeft',
  'ArrowRight',
  'Home',
  'End',
]);

/** The spot an arrow key takes a picked-up card to: up and down within the column, left and
 * right to the neighbouring column at the same height (or its end), Home and End. */
export function nextSpot(columns: readonly Column[], taskId: string, spot: Spot, key: MoveKey): Spot {
  const room = (column: number) => othersIn(columns[column]!, taskId).length;
  const clamp = (value: number, max: number) => Math.min(Math.max(value, 0), max);
  switch (key) {
    case 'ArrowUp':
      return { ...spot, index: clamp(spot.index - 1, room(spot.column)) };
    case 'ArrowDown':
      return { ...spot, index: clamp(spot.index + 1, room(spot.column)) };
    case 'Home':
      return { ...spot, index: 0 };
    case 'End':
      return { ...spot, index: room(spot.column) };
    case 'ArrowLeft':
    case 'ArrowRight': {
      const column = clamp(spot.column + (key === 'ArrowLeft' ? -1 : 1), columns.length - 1);
      return { column, index: clamp(spot.index, room(column)) };
    }
  }
}

/** True when dropping at `to` leaves the card where it is. */
export function isSameSpot(columns: readonly Column[], taskId: string, to: Spot): boolean {
  const from = spotOf(columns, taskId);
  return from !== null && from.column === to.column && from.index === to.index;
}

/** The change that puts the task at `to`: its section, and a position between its new neighbours. */
export function dropChanges(
  columns: readonly Column[],
  taskId: string,
  to: Spot,
): { section_id: string | null; position: number } {
  const column = columns[to.column]!;
  const others = othersIn(column, taskId);
  return {
    section_id: column.id,
    position: positionBetween(others[to.index - 1]?.position, others[to.index]?.position),
  };
}

/**
 * The position that moves a section one place left (-1) or right (+1) among the project's
 * sections, between its new neighbours; null when it is at that end already ("No section"
 * is always first and is no section).
 */
export function sectionPosition(sections: readonly Section[], sectionId: string, step: -1 | 1): number | null {
  const ordered = [...sections].sort(byPosition);
  const index = ordered.findIndex((section) => section.id === sectionId);
  const target = index + step;
  if (index < 0 || target < 0 || target >= ordered.length) return null;
  const others = ordered.filter((section) => section.id !== sectionId);
  return positionBetween(others[target - 1]?.position, others[target]?.position);
}

/** What a screen reader hears about a spot: "Doing, position 2 of 3". */
export function describeSpot(columns: readonly Column[], taskId: string, to: Spot): string {
  const column = columns[to.column]!;
  return `${column.name}, position ${to.index + 1} of ${othersIn(column, taskId).length + 1}`;
}

/** The index among a column's other cards for a pointer at `y`: before the first card whose
 * middle is below it. */
export function indexAtPointer(middles: readonly number[], y: number): number {
  const index = middles.findIndex((middle) => y < middle);
  return index === -1 ? middles.length : index;
}
