import * as fs from 'node:fs';
import { CoverageFormatError, mergeCoverage, validateCoverage, type CoverageDocument } from './document';
import { readLcov, withTest } from './lcov-reader';

/**
 * Reads a coverage file: fasmcov JSON (one `fasmcov-coverage@1` document or an array of them,
 * one per test) or an lcov tracefile (by content, whatever the name).
 */
export async function readCoverageFile(file: string, root: string): Promise<CoverageDocument[]> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CoverageFormatError(
      file,
      `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  if (/^\s*[[{]/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new CoverageFormatError(file, `invalid JSON (${(err as Error).message})`);
    }
    const items = Array.isArray(value) ? value : [value];
    return items.map((v, i) => validateCoverage(v, Array.isArray(value) ? `${file}[${i}]` : file));
  }
  return readLcov(text, file, root);
}

/** Adds up documents of the same test name; keeps one document per test, in first-seen order. */
export function mergeByTest(docs: CoverageDocument[]): CoverageDocument[] {
  const groups = new Map<string | undefined, CoverageDocument[]>();
  for (const d of docs) groups.set(d.test, [...(groups.get(d.test) ?? []), d]);
  return [...groups].map(([test, group]) => withTest(mergeCoverage(group), test));
}
