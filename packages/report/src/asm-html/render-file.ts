import { esc, page, pctClass } from './html';
import type { BranchView, FileView, LineView } from './site-model';

function lineClass(l: LineView): string {
  if (l.hits === undefined) return 'nocode';
  if (l.hits === 0) return 'miss';
  return l.branches.some((b) => b.taken === 0 || b.notTaken === 0) ? 'partial' : 'hit';
}

/** Arm markers: T = taken, N = not taken; a missed arm is flagged for the keyboard navigation. */
function branchCell(branches: BranchView[]): string {
  return branches
    .map((b) => {
      const cls =
        b.taken === 0 && b.notTaken === 0
          ? 'br-none'
          : b.taken === 0
            ? 'br-t0'
            : b.notTaken === 0
              ? 'br-n0'
              : 'br-both';
      const what =
        cls === 'br-none'
          ? 'never reached'
          : cls === 'br-t0'
            ? 'never taken'
            : cls === 'br-n0'
              ? 'never not taken'
              : 'both ways';
      return `<span class="br ${cls}" title="branch ${b.index}: taken ${b.taken}, not taken ${b.notTaken} (${what})">T${b.taken} N${b.notTaken}</span>`;
    })
    .join(' ');
}

function row(l: LineView): string {
  const missedArm = l.branches.some((b) => b.taken === 0 || b.notTaken === 0);
  const fns = l.functions.map((f) => `<span class="fn-mark" title="function ${esc(f)}">ƒ</span>`).join('');
  return (
    `<tr id="L${l.line}" class="${lineClass(l)}${missedArm ? ' br-missed' : ''}">` +
    `<td class="ln"><a href="#L${l.line}">${l.line}</a></td>` +
    `<td class="hits">${l.hits ?? ''}</td>` +
    `<td class="instr">${l.instructions ?? ''}</td>` +
    `<td class="brs">${branchCell(l.branches)}</td>` +
    `<td class="src">${fns}<code>${esc(l.text)}</code></td>` +
    `<td class="tests">${l.tests.length ? `<span title="${esc(l.tests.join(', '))}">${l.tests.length}</span>` : ''}</td>` +
    '</tr>'
  );
}

/** The annotated source page of one file; `prefix` leads back to the site root. */
export function renderFilePage(view: FileView, prefix: string): string {
  const s = view.summary;
  const metric = (name: string, m: { covered: number; total: number; pct: number }) =>
    `<span class="metric ${pctClass(m.pct)}" data-metric="${name}">${name} ${m.pct}% (${m.covered}/${m.total})</span>`;
  const fns = view.functions
    .map(
      (f) =>
        `<li class="${f.hits ? 'hit' : 'miss'}"><a href="#L${f.line}">${esc(f.name)}</a> <span class="count">${f.hits}</span></li>`,
    )
    .join('');
  const body = `<header>
<nav><a href="${prefix}index.html">index</a> / ${esc(view.path)}</nav>
<h1>${esc(view.path)}</h1>
<p class="summary">${metric('lines', s.lines)} ${metric('branches', s.branches)} ${metric('functions', s.functions)}</p>
<p class="keys">Keys: <kbd>n</kbd>/<kbd>p</kbd> next/previous uncovered line or branch arm.</p>
${view.sourceMissing ? '<p class="warn">Source file not found; lines shown without text.</p>' : ''}
</header>
<details class="functions"><summary>Functions (${view.functions.length})</summary><ul>${fns}</ul></details>
<table class="source">
<thead><tr><th>line</th><th title="times the line ran">hits</th><th title="instructions executed on the line">instr</th><th>branches</th><th>source</th><th title="tests that ran the line">tests</th></tr></thead>
<tbody>
${view.lines.map(row).join('\n')}
</tbody>
</table>`;
  return page(view.path, prefix, body);
}
