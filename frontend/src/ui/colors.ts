// The colours offered for projects and labels: AA against both themes' backgrounds as dots
// (3:1 for graphics). A colour set elsewhere (the API takes any #rrggbb) is shown as it is.

export const PALETTE: readonly { value: string; name: string }[] = [
  { value: '#b91c1c', name: 'Red' },
  { value: '#c2410c', name: 'Orange' },
  { value: '#a16207', name: 'Amber' },
  { value: '#15803d', name: 'Green' },
  { value: '#0f766e', name: 'Teal' },
  { value: '#1d4ed8', name: 'Blue' },
  { value: '#7e22ce', name: 'Purple' },
  { value: '#be185d', name: 'Pink' },
  { value: '#4b5563', name: 'Grey' },
];

export function colorName(color: string | null): string {
  if (!color) return 'No colour';
  return PALETTE.find((c) => c.value === color.toLowerCase())?.name ?? color;
}
