// A project's or label's colour as a dot. SVG `fill` is an attribute, not a style, so an
// arbitrary colour needs no inline style (which the CSP forbids).
export function ColorDot({ color }: { color: string | null }) {
  return (
    <svg className={`dot${color ? '' : ' dot-none'}`} viewBox="0 0 10 10" aria-hidden="true" focusable="false">
      <circle cx="5" cy="5" r="4" fill={color ?? 'none'} />
    </svg>
  );
}
