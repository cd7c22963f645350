// Model output as Markdown, made safe: marked renders it, DOMPurify keeps only inert HTML (no script, no event
// handler, no javascript: URL, no form, style or image), and every link opens in a new tab without the opener.
import DOMPurify from 'dompurify';
import { marked } from 'marked';

let hooked = false;

function hookLinks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node instanceof Element && node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

export const SANITIZE_OPTIONS = {
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'img', 'svg', 'math', 'iframe', 'object', 'embed', 'video', 'audio', 'source', 'link', 'meta', 'base'],
  FORBID_ATTR: ['style', 'srcset', 'action', 'formaction'],
  ALLOW_DATA_ATTR: false,
};

export function markdownToSafeHtml(text: string): string {
  hookLinks();
  const html = marked.parse(text, { async: false, gfm: true, breaks: true }) as string;
  return DOMPurify.sanitize(html, SANITIZE_OPTIONS) as unknown as string;
}

export function renderMarkdown(target: HTMLElement, text: string): void {
  target.innerHTML = markdownToSafeHtml(text);
}
