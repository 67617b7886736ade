import { esc, page, pctClass } from './html';
import type { BranchView, ExpandedLineView, FileView, LineView } from './site-model';

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

// The drill-down's look, kept beside its markup (pages without expansions leave it out).
const EXPANSION_STYLE = `<style>
details.expansion { display: inline-block; vertical-align: top; }
details.expansion > summary { cursor: pointer; }
details.expansion > summary:focus-visible { outline: 2px solid #36c; }
table.expansion { border-collapse: collapse; margin: 0.2em 0 0.4em 1.2em; background: #f6f7fb; }
table.expansion th { font-weight: normal; color: #666; border-bottom: 1px solid #ddd; }
table.expansion td.where { color: #666; }
tr.x-hit td.hits { background: #dff5d8; }
tr.x-miss td.hits, tr.x-miss td.src { background: #fbd7d4; }
tr.x-partial td.hits { background: #fbeaa5; }
</style>`;

/** Classes of expansion rows differ from source rows': the n/p navigation skips hidden rows. */
function expandedRow(e: ExpandedLineView): string {
  const cls =
    e.hits === 0
      ? 'x-miss'
      : e.branches.some((b) => b.taken === 0 || b.notTaken === 0)
        ? 'x-partial'
        : 'x-hit';
  return (
    `<tr class="${cls}"><td class="where">${esc(e.file)}:${e.line}</td>` +
    `<td class="hits">${e.hits}</td><td class="instr">${e.instructions}</td>` +
    `<td class="brs">${branchCell(e.branches)}</td><td class="src"><code>${esc(e.text)}</code></td></tr>`
  );
}

/** The source text; for a macro invocation a disclosure (keyboard-operable <details>) of its expansion. */
function sourceCell(l: LineView): string {
  const code = `<code>${esc(l.text)}</code>`;
  if (!l.expansion?.length) return code;
  return (
    `<details class="expansion"><summary title="macro expansion: ${l.expansion.length} code line(s): macro body line, hits, instructions, branch arms, expanded text">${code}</summary>` +
    `<table class="expansion"><tbody>${l.expansion.map(expandedRow).join('')}</tbody></table></details>`
  );
}

function row(l: LineView): string {
  const anchor = `<tr id="L${l.line}"`;
  const ln = `<td class="ln"><a href="#L${l.line}">${l.line}</a></td>`;
  // Most lines of a kernel produce no code: their empty cells carry no class (half the page size).
  if (l.hits === undefined && !l.functions.length && !l.tests.length)
    return `${anchor} class="nocode">${ln}<td></td><td></td><td></td><td class="src">${sourceCell(l)}</td><td></td></tr>`;
  const missedArm = l.branches.some((b) => b.taken === 0 || b.notTaken === 0);
  const fns = l.functions.map((f) => `<span class="fn-mark" title="function ${esc(f)}">ƒ</span>`).join('');
  return (
    `${anchor} class="${lineClass(l)}${missedArm ? ' br-missed' : ''}">${ln}` +
    `<td class="hits">${l.hits ?? ''}</td>` +
    `<td class="instr">${l.instructions ?? ''}</td>` +
    `<td class="brs">${branchCell(l.branches)}</td>` +
    `<td class="src">${fns}${sourceCell(l)}</td>` +
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
  const style = view.lines.some((l) => l.expansion?.length) ? EXPANSION_STYLE : '';
  const body = `${style}<header>
<nav><a href="${prefix}index.html">index</a> / ${esc(view.path)}</nav>
<h1>${esc(view.path)}</h1>
<p class="summary">${metric('lines', s.lines)} ${metric('branches', s.branches)} ${metric('functions', s.functions)}</p>
<p class="keys">Keys: <kbd>n</kbd>/<kbd>p</kbd> next/previous uncovered line or branch arm.${style ? ' A macro invocation opens to its expansion (click, or <kbd>Tab</kbd> to it and <kbd>Enter</kbd>).' : ''}</p>
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
