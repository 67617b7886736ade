/**
 * A unified diff of two texts by lines (longest common subsequence; transcripts are small enough for
 * the quadratic table). Empty when the texts are equal.
 */
export function unifiedDiff(
  expected: string,
  actual: string,
  expectedName: string,
  actualName: string,
  context = 3,
): string {
  if (expected === actual) return '';
  const lines = (t: string) => (t.endsWith('\n') ? t.slice(0, -1) : t).split('\n');
  const a = lines(expected);
  const b = lines(actual);
  // Trim the common head and tail so the table covers only the differing middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const ops = diffLines(am, bm);
  const all: Array<{ op: ' ' | '-' | '+'; text: string }> = [
    ...a.slice(0, head).map((text) => ({ op: ' ' as const, text })),
    ...ops,
    ...a.slice(a.length - tail).map((text) => ({ op: ' ' as const, text })),
  ];
  const out = [`--- ${expectedName}`, `+++ ${actualName}`];
  let i = 0;
  while (i < all.length) {
    if (all[i].op === ' ') {
      i++;
      continue;
    }
    // A hunk: changes plus `context` lines around, merged while gaps are small.
    let start = Math.max(0, i - context);
    let end = i;
    while (end < all.length) {
      if (all[end].op !== ' ') {
        end++;
        continue;
      }
      let run = 0;
      while (end + run < all.length && all[end + run].op === ' ') run++;
      if (end + run >= all.length || run > 2 * context) {
        end = Math.min(all.length, end + context);
        break;
      }
      end += run;
    }
    let aLine = 1;
    let bLine = 1;
    for (let k = 0; k < start; k++) {
      if (all[k].op !== '+') aLine++;
      if (all[k].op !== '-') bLine++;
    }
    const hunk = all.slice(start, end);
    const aCount = hunk.filter((h) => h.op !== '+').length;
    const bCount = hunk.filter((h) => h.op !== '-').length;
    out.push(`@@ -${aLine},${aCount} +${bLine},${bCount} @@`);
    for (const h of hunk) out.push(`${h.op}${h.text}`);
    i = end;
    start = end;
  }
  return `${out.join('\n')}\n`;
}

function diffLines(a: string[], b: string[]): Array<{ op: ' ' | '-' | '+'; text: string }> {
  const n = a.length;
  const m = b.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
  const out: Array<{ op: ' ' | '-' | '+'; text: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', text: a[i] });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
      // Deletions before insertions, as diff(1) prints them.
      out.push({ op: '-', text: a[i++] });
    } else out.push({ op: '+', text: b[j++] });
  }
  return out;
}
