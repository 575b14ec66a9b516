// What the API accepts as a label name (src/taskwell/labels/schemas.py), checked before sending.

/** The most characters a label name may have, spaces around it not counted. */
export const LABEL_NAME_MAX = 60;

/** Why the API would refuse this (already trimmed) name, or null when it is fine. */
export function labelNameProblem(name: string): string | null {
  if (!name) return 'A label needs a name.';
  // Characters as the server counts them (code points), not UTF-16 units.
  if ([...name].length > LABEL_NAME_MAX) return `A label name can have at most ${LABEL_NAME_MAX} characters.`;
  if (name.includes(',')) return 'A label name cannot contain a comma: commas separate labels in CSV files.';
  return null;
}
