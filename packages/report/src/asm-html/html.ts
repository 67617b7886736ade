/** Escapes text for HTML element content and attribute values. */
const SPECIAL = /[&<>"']/;

export function esc(text: string): string {
  // Most source lines have nothing to escape: skip the replace (and its garbage) for them.
  if (!SPECIAL.test(text)) return text;
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** A complete page: assets are referenced relative to the page (`prefix` = path back to the root). */
export function page(title: string, prefix: string, body: string, scripts: string[] = []): string {
  const js = ['nav.js', ...scripts].map((s) => `<script src="${prefix}assets/${s}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${prefix}assets/asm-html.css">
</head>
<body>
${body}
${js}
</body>
</html>
`;
}

export function pctClass(pct: number): string {
  return pct >= 90 ? 'high' : pct >= 50 ? 'medium' : 'low';
}
