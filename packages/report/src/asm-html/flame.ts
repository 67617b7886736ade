import { page } from './html';

/** A node of the call tree: inclusive instruction count in `value`, as d3-flame-graph expects. */
export interface FlameNode {
  name: string;
  value: number;
  children: FlameNode[];
}

/** Builds the call tree from folded stacks (`a;b;c` → exclusive instruction count). */
export function flameTreeFromFolded(folded: Map<string, number>): FlameNode {
  const root: FlameNode = { name: 'all', value: 0, children: [] };
  for (const [stack, count] of [...folded].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let node = root;
    node.value += count;
    for (const frame of stack.split(';')) {
      let child = node.children.find((c) => c.name === frame);
      if (!child) node.children.push((child = { name: frame, value: 0, children: [] }));
      child.value += count;
      node = child;
    }
  }
  return root;
}

export function renderFlamePage(title: string): string {
  const body = `<header><nav><a href="index.html">index</a> / flame graph</nav>
<h1>${title}: instructions per call stack</h1>
<p>Width = inclusive instructions executed. Click a frame to zoom.</p></header>
<div id="flamegraph"></div>`;
  return page(`${title} flame graph`, '', body, [
    'd3.min.js',
    'd3-flamegraph.min.js',
    'flame-data.js',
    'flame.js',
  ]);
}
