// Manual order as floats: a moved item takes a position between its new neighbours, so one
// move is one PATCH of one item (no renumbering of the others).

export const POSITION_STEP = 1024;

/** A position between `before` and `after` (either may be missing: an end of the list). */
export function positionBetween(before: number | undefined, after: number | undefined): number {
  if (before !== undefined && after !== undefined) return before + (after - before) / 2;
  if (before !== undefined) return before + POSITION_STEP;
  if (after !== undefined) return after - POSITION_STEP;
  return POSITION_STEP;
}
