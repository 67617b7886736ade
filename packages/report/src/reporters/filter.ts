import { minimatch } from 'minimatch';
import type { CoverageDocument } from '../model/document';

/**
 * Keeps the files whose path matches any `include` glob (all when none) and no `exclude` glob.
 * Globs match the report path (relative to the project root), `**` across folders.
 */
export function filterFiles(
  docs: CoverageDocument[],
  include: string[],
  exclude: string[],
): CoverageDocument[] {
  const keep = (p: string) =>
    (include.length === 0 || include.some((g) => minimatch(p, g, { dot: true }))) &&
    !exclude.some((g) => minimatch(p, g, { dot: true }));
  return docs.map((d) => ({ ...d, files: d.files.filter((f) => keep(f.path)) }));
}
