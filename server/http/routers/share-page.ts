// The share link's page: a tiny HTML document that loads the widget in full-page mode (the CSP allows only our own
// script). Every value in it is escaped; the agent's name and colour are the only things it carries.
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

export function renderSharePage(view: { displayName: string; accentColor: string }, slug: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(view.displayName)}</title>
<style>html,body{margin:0;height:100%;background:#f8fafc}</style>
</head>
<body>
<noscript>This chat needs JavaScript.</noscript>
<script src="/widget.js" data-agent="${escapeHtml(slug)}" data-mode="page" defer></script>
</body>
</html>`;
}

export function renderUnavailablePage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Chat not found</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f8fafc;color:#0f172a}main{padding:24px;text-align:center}</style></head>
<body><main><h1>This chat is not available</h1><p>The link may be old, or the chat was turned off by its owner.</p></main></body>
</html>`;
}
