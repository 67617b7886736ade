import type { Bytes } from './internal/bytes';
import { lineContaining, type SourceLines } from './internal/source-lines';
import { resolveInclude, resolveMain, type ResolveOptions } from './include-paths';
import type { SourceFile } from './model';

/**
 * Finds the file of every preprocessed line and resolves the file names. A file line's field +0
 * points at the quoted operand of the `include` line that read it (which fasm rewrote to the
 * path it opened), 0 for the main file; generated lines take the file of their body line (`home`).
 */
export function mapSourceFiles(
  b: Bytes,
  L: SourceLines,
  home: Uint32Array,
  inputName: string,
  fasDir: string,
  opts: ResolveOptions,
): { files: SourceFile[]; fileOfLine: Uint32Array } {
  const fileOfLine = new Uint32Array(L.count);
  const main = resolveMain(inputName, fasDir, opts);
  const files: SourceFile[] = [
    { index: 0, name: inputName, aliases: [], path: main.path, exists: main.exists },
  ];
  const byPath = new Map<string, number>([[main.path, 0]]);
  const byRef = new Map<number, number>([[0, 0]]);
  let lastRef = 0;
  let lastFile = 0;
  for (let i = 0; i < L.count; i++) {
    if (L.generated[i]) continue;
    const ref = L.field0[i];
    if (ref !== lastRef) {
      let f = byRef.get(ref);
      if (f === undefined) {
        const name = b.cstring(L.base + ref, 'source file name', L.base, L.base + L.offsets[i]);
        const incLine = home[lineContaining(L, ref)];
        const from = fileOfLine[incLine];
        const r = resolveInclude(name, files[from].path, fasDir, opts);
        f = byPath.get(r.path);
        if (f === undefined) {
          f = files.length;
          byPath.set(r.path, f);
          const includedFrom = { file: from, line: L.numbers[incLine] };
          files.push({ index: f, name, aliases: [], path: r.path, exists: r.exists, includedFrom });
        } else if (name !== files[f].name && !files[f].aliases.includes(name)) files[f].aliases.push(name);
        byRef.set(ref, f);
      }
      lastRef = ref;
      lastFile = f;
    }
    fileOfLine[i] = lastFile;
  }
  for (let i = 0; i < L.count; i++) if (L.generated[i]) fileOfLine[i] = fileOfLine[home[i]];
  return { files, fileOfLine };
}
