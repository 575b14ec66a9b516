// Markdown rendered safely: micromark escapes raw HTML and drops dangerous link protocols by
// default (allowDangerousHtml and allowDangerousProtocol stay off), so its output can be
// inserted as-is. The CSP (no inline script, images from this site only) is a second wall.
import { micromark } from 'micromark';
import { useMemo } from 'react';

export function renderMarkdown(source: string): string {
  return micromark(source, { allowDangerousHtml: false, allowDangerousProtocol: false });
}

export function Markdown({ source, className }: { source: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div className={`markdown ${className ?? ''}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
