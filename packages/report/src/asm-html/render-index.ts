import { esc, page, pctClass } from './html';
import { metric, type CoverageSummary, type Metric } from '../model/summary';
import type { FileView } from './site-model';

export interface IndexOptions {
  title: string;
  /** Folders listed first, in this order (e.g. `fs` for file-system code); the rest sorted. */
  firstFolders: string[];
  hasFlameGraph: boolean;
}

function folderOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : p.slice(0, i);
}

function add(a: CoverageSummary, b: CoverageSummary): CoverageSummary {
  const m = (x: Metric, y: Metric) => metric(x.total + y.total, x.covered + y.covered);
  return {
    lines: m(a.lines, b.lines),
    branches: m(a.branches, b.branches),
    functions: m(a.functions, b.functions),
  };
}

const empty = (): CoverageSummary => ({
  lines: metric(0, 0),
  branches: metric(0, 0),
  functions: metric(0, 0),
});

function cells(s: CoverageSummary): string {
  return (['lines', 'branches', 'functions'] as const)
    .map(
      (k) =>
        `<td class="pct ${pctClass(s[k].pct)}" data-metric="${k}">${s[k].pct}%</td><td class="num">${s[k].covered}/${s[k].total}</td>`,
    )
    .join('');
}

/** Folders in the wanted order: the listed ones first (and their subfolders), then the rest. */
export function orderFolders(folders: string[], first: string[]): string[] {
  const rank = (f: string) => {
    const i = first.findIndex(
      (x) => f === x || f.startsWith(`${x}/`) || f.endsWith(`/${x}`) || f.includes(`/${x}/`),
    );
    return i < 0 ? first.length : i;
  };
  return [...folders].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export interface TreemapNode {
  name: string;
  lines?: number;
  covered?: number;
  href?: string;
  children?: TreemapNode[];
}

export function renderIndex(files: FileView[], opts: IndexOptions): { html: string; treemap: TreemapNode } {
  const byFolder = new Map<string, FileView[]>();
  for (const f of files) byFolder.set(folderOf(f.path), [...(byFolder.get(folderOf(f.path)) ?? []), f]);
  const folders = orderFolders([...byFolder.keys()], opts.firstFolders);
  let total = empty();
  const rows: string[] = [];
  const tree: TreemapNode = { name: 'all', children: [] };
  for (const folder of folders) {
    const list = byFolder.get(folder) ?? [];
    const sum = list.reduce((acc, f) => add(acc, f.summary), empty());
    total = add(total, sum);
    rows.push(`<tr class="folder"><th scope="row">${esc(folder)}/</th>${cells(sum)}</tr>`);
    for (const f of list) {
      rows.push(
        `<tr class="file"><td><a href="${esc(f.href)}">${esc(f.path.slice(folder === '.' ? 0 : folder.length + 1))}</a></td>${cells(f.summary)}</tr>`,
      );
    }
    tree.children?.push({
      name: folder,
      children: list.map((f) => ({
        name: f.path,
        lines: f.summary.lines.total,
        covered: f.summary.lines.covered,
        href: f.href,
      })),
    });
  }
  const body = `<header>
<h1>${esc(opts.title)}</h1>
<p class="summary" id="totals">${(['lines', 'branches', 'functions'] as const)
    .map(
      (k) =>
        `<span class="metric ${pctClass(total[k].pct)}" data-metric="${k}">${k} ${total[k].pct}% (${total[k].covered}/${total[k].total})</span>`,
    )
    .join(' ')}</p>
${opts.hasFlameGraph ? '<p><a href="flamegraph.html">Flame graph of instructions per call stack</a></p>' : ''}
</header>
<div id="treemap" aria-label="coverage treemap by folder and file"></div>
<table class="index">
<thead><tr><th>folder / file</th><th colspan="2">lines</th><th colspan="2">branches</th><th colspan="2">functions</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
  return { html: page(opts.title, '', body, ['d3.min.js', 'treemap-data.js', 'treemap.js']), treemap: tree };
}
