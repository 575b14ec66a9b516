// Descriptions are Markdown from users: rendered, never executed.
import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown, renderMarkdown } from './Markdown';

describe('Markdown', () => {
  it('renders the usual Markdown', () => {
    expect(renderMarkdown('# Title\n\n- **bold** and _it_\n- `code`')).toBe(
      '<h1>Title</h1>\n<ul>\n<li><strong>bold</strong> and <em>it</em></li>\n<li><code>code</code></li>\n</ul>',
    );
  });

  it('escapes raw HTML instead of passing it through', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;');
  });

  it('drops javascript: and data: links', () => {
    const { container } = render(<Markdown source={'[click](javascript:alert(1)) [img](data:text/html,<b>x</b>)'} />);
    for (const link of container.querySelectorAll('a')) {
      expect(link.getAttribute('href') ?? '').not.toMatch(/^(javascript|data):/i);
    }
  });

  it('keeps ordinary links', () => {
    const { container } = render(<Markdown source="[docs](https://example.com/a?b=1)" />);
    expect(container.querySelector('a')).toHaveAttribute('href', 'https://example.com/a?b=1');
  });
});
