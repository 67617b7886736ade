import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CoverageDocument } from '../model/document';
import { mergeCoverage } from '../model/document';
import { renderFilePage } from './render-file';
import { renderIndex } from './render-index';
import { renderFlamePage, type FlameNode } from './flame';
import { buildFileView } from './site-model';
import type { MacroExpansions } from '../mapping/expansions';

export interface AsmHtmlOptions {
  /** Directory source paths are relative to. */
  root: string;
  /** Output directory; replaced as a whole once the new site is complete. */
  outDir: string;
  title?: string;
  /** Folders listed first in the index (default: `fs`). */
  firstFolders?: string[];
  /** Call tree for the flame graph page, when call stacks were recorded. */
  profile?: FlameNode;
  /** Macro-expansion detail from the mapping (`mapCoverage(...).expansions`, merged over runs). */
  expansions?: MacroExpansions;
}

const assetsDir = path.resolve(__dirname, '../../assets');

/** A file of an installed package (d3 and d3-flame-graph export no dist paths, so look it up). */
function vendorFile(rel: string): Buffer {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', rel);
    if (fs.existsSync(candidate)) return fs.readFileSync(candidate);
    if (path.dirname(dir) === dir) throw new Error(`cannot find node_modules/${rel}: run \`npm ci\``);
  }
}

/**
 * Writes the annotated-source site: index (per-folder table, treemap), one page per source file,
 * the flame graph when a profile is given. Static files only; opens from disk. The site is built
 * in a temporary directory and moved into place, so a failure never leaves half a report.
 */
export function writeAsmHtml(
  perTest: CoverageDocument[],
  opts: AsmHtmlOptions,
): { pages: number; index: string } {
  const merged = mergeCoverage(perTest);
  const tmp = `${opts.outDir.replace(/\/+$/, '')}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    const views = merged.files.map((f) => {
      const file = path.resolve(opts.root, f.path);
      const source = fs.existsSync(file) ? fs.readFileSync(file, 'latin1') : undefined;
      return buildFileView(f, perTest, source, opts.expansions?.get(f.path));
    });
    fs.mkdirSync(path.join(tmp, 'assets'), { recursive: true });
    for (const v of views) {
      const out = path.join(tmp, v.href);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const prefix = '../'.repeat(v.href.split('/').length - 1);
      fs.writeFileSync(out, renderFilePage(v, prefix));
    }
    const title = opts.title ?? 'fasmcov coverage';
    const { html, treemap } = renderIndex(views, {
      title,
      firstFolders: opts.firstFolders ?? ['fs'],
      hasFlameGraph: opts.profile !== undefined,
    });
    fs.writeFileSync(path.join(tmp, 'index.html'), html);
    for (const a of fs.readdirSync(assetsDir))
      fs.copyFileSync(path.join(assetsDir, a), path.join(tmp, 'assets', a));
    fs.writeFileSync(path.join(tmp, 'assets/d3.min.js'), vendorFile('d3/dist/d3.min.js'));
    fs.writeFileSync(
      path.join(tmp, 'assets/treemap-data.js'),
      `window.FASMCOV_TREEMAP = ${JSON.stringify(treemap)};\n`,
    );
    if (opts.profile) {
      fs.writeFileSync(
        path.join(tmp, 'assets/d3-flamegraph.min.js'),
        vendorFile('d3-flame-graph/dist/d3-flamegraph.umd.min.js'),
      );
      fs.writeFileSync(
        path.join(tmp, 'assets/flame-data.js'),
        `window.FASMCOV_FLAME = ${JSON.stringify(opts.profile)};\n`,
      );
      fs.writeFileSync(path.join(tmp, 'flamegraph.html'), renderFlamePage(title));
    }
    fs.rmSync(opts.outDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(path.resolve(opts.outDir)), { recursive: true });
    fs.renameSync(tmp, opts.outDir);
    return { pages: views.length, index: path.join(opts.outDir, 'index.html') };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
