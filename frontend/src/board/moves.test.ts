// The board's move rules: columns, arrow keys, and the PATCH a drop makes.
import { describe, expect, it } from 'vitest';
import type { Section } from '../api/types';
import type { ViewTask } from '../offline/overlay';
import { makeTask } from '../test/fakeServer';
import {
  buildColumns,
  describeSpot,
  dropChanges,
  indexAtPointer,
  isSameSpot,
  nextSpot,
  sectionPosition,
  spotOf,
} from './moves';

function section(id: string, name: string, position: number): Section {
  return { id, project_id: 'p', name, position, version: 1, created_at: '', updated_at: '' };
}

function card(title: string, section_id: string | null, position: number): ViewTask {
  return { ...makeTask({ title, section_id, position }), pending: false };
}

const SECTIONS = [section('s2', 'Done', 2048), section('s1', 'Doing', 1024)];
const a = card('A', null, 100);
const b = card('B', null, 200);
const c = card('C', 's1', 50);
const gone = card('Orphan', 'deleted-section', 10);
const columns = buildColumns(SECTIONS, [b, c, a, gone]);

describe('buildColumns', () => {
  it('puts "No section" first, then the sections by position, each sorted by position', () => {
    expect(columns.map((col) => col.name)).toEqual(['No section', 'Doing', 'Done']);
    expect(columns.map((col) => col.tasks.map((t) => t.title))).toEqual([['Orphan', 'A', 'B'], ['C'], []]);
  });
});

describe('nextSpot', () => {
  it('moves within a column, clamped at both ends', () => {
    const from = spotOf(columns, a.id)!;
    expect(from).toEqual({ column: 0, index: 1 });
    expect(nextSpot(columns, a.id, from, 'ArrowUp')).toEqual({ column: 0, index: 0 });
    expect(nextSpot(columns, a.id, { column: 0, index: 0 }, 'ArrowUp')).toEqual({ column: 0, index: 0 });
    expect(nextSpot(columns, a.id, from, 'ArrowDown')).toEqual({ column: 0, index: 2 });
    expect(nextSpot(columns, a.id, { column: 0, index: 2 }, 'ArrowDown')).toEqual({ column: 0, index: 2 });
    expect(nextSpot(columns, a.id, from, 'Home')).toEqual({ column: 0, index: 0 });
    expect(nextSpot(columns, a.id, from, 'End')).toEqual({ column: 0, index: 2 });
  });

  it('moves to the neighbouring column at the same height or its end', () => {
    expect(nextSpot(columns, a.id, { column: 0, index: 2 }, 'ArrowRight')).toEqual({ column: 1, index: 1 });
    expect(nextSpot(columns, a.id, { column: 1, index: 1 }, 'ArrowRight')).toEqual({ column: 2, index: 0 });
    expect(nextSpot(columns, a.id, { column: 2, index: 0 }, 'ArrowRight')).toEqual({ column: 2, index: 0 });
    expect(nextSpot(columns, a.id, { column: 0, index: 1 }, 'ArrowLeft')).toEqual({ column: 0, index: 1 });
  });
});

describe('dropChanges', () => {
  it('sets the section and a position between the new neighbours', () => {
    expect(dropChanges(columns, a.id, { column: 1, index: 0 })).toEqual({ section_id: 's1', position: 50 - 1024 });
    expect(dropChanges(columns, a.id, { column: 1, index: 1 })).toEqual({ section_id: 's1', position: 50 + 1024 });
    expect(dropChanges(columns, a.id, { column: 2, index: 0 })).toEqual({ section_id: 's2', position: 1024 });
    expect(dropChanges(columns, b.id, { column: 0, index: 1 })).toEqual({ section_id: null, position: 55 });
  });

  it('knows a drop where the card already is', () => {
    expect(isSameSpot(columns, a.id, { column: 0, index: 1 })).toBe(true);
    expect(isSameSpot(columns, a.id, { column: 0, index: 0 })).toBe(false);
  });

  it('describes a spot for the announcement', () => {
    expect(describeSpot(columns, a.id, { column: 1, index: 1 })).toBe('Doing, position 2 of 2');
  });
});

describe('indexAtPointer', () => {
  it('is before the first card whose middle is below the pointer', () => {
    expect(indexAtPointer([10, 30, 50], 5)).toBe(0);
    expect(indexAtPointer([10, 30, 50], 35)).toBe(2);
    expect(indexAtPointer([10, 30, 50], 99)).toBe(3);
    expect(indexAtPointer([], 99)).toBe(0);
  });
});

describe('sectionPosition', () => {
  const three = [...SECTIONS, section('s3', 'Later', 4096)];

  it('puts a section between its new neighbours, or past the end one', () => {
    expect(sectionPosition(three, 's3', -1)).toBe(1024 + 512);
    expect(sectionPosition(three, 's2', -1)).toBe(1024 - 1024);
    expect(sectionPosition(three, 's1', 1)).toBe(2048 + 1024);
    expect(sectionPosition(three, 's2', 1)).toBe(4096 + 1024);
  });

  it('is null at an end, or for a section not in the list', () => {
    expect(sectionPosition(three, 's1', -1)).toBeNull();
    expect(sectionPosition(three, 's3', 1)).toBeNull();
    expect(sectionPosition(three, 'gone', 1)).toBeNull();
  });
});
