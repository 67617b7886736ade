import * as fs from 'node:fs';
import * as path from 'node:path';
import { createContext } from 'istanbul-lib-report';
import { create as createReporter, type ReportType } from 'istanbul-reports';
import type { CoverageDocument } from '../model/document';
import { mergeCoverage } from '../model/document';
import { toCoverageMap } from '../model/istanbul';
import { writeLcov } from '../model/lcov-writer';
import { writeAsmHtml } from '../asm-html/write-site';
import type { FlameNode } from '../asm-html/flame';

/** istanbul-reports reporters fasmcov passes through, and where each writes. */
const ISTANBUL: Record<string, { type: ReportType; options?: Record<string, unknown> }> = {
  html: { type: 'html', options: { subdir: 'html' } },
  json: { type: 'json' },
  'json-summary': { type: 'json-summary' },
  cobertura: { type: 'cobertura' },
  text: { type: 'text' },
  'text-summary': { type: 'text-summary' },
};

export const REPORTERS = ['lcov', ...Object.keys(ISTANBUL), 'asm-html', 'flamegraph'] as const;

export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

export interface WriteReportsOptions {
  /** Directory that source paths are relative to. */
  root: string;
  outDir: string;
  reporters: string[];
  title?: string;
  firstFolders?: string[];
  profile?: FlameNode;
  /** Where text reporters print (default: stdout). */
  print?: (text: string) => void;
}

/**
 * Writes every requested report. Files are produced in a temporary folder beside `outDir` and
 * moved in when all reporters succeeded, so a failure leaves the previous report untouched.
 * Returns the paths written (relative to outDir).
 */
export function writeReports(perTest: CoverageDocument[], opts: WriteReportsOptions): string[] {
  for (const r of opts.reporters) {
    if (!(REPORTERS as readonly string[]).includes(r)) {
      throw new ReportError(`unknown reporter '${r}' (have: ${REPORTERS.join(', ')})`);
    }
  }
  if (opts.reporters.includes('flamegraph') && !opts.profile) {
    throw new ReportError(
      'the flamegraph reporter needs call-stack data (a run recorded with call tracking)',
    );
  }
  const merged = mergeCoverage(perTest);
  fs.mkdirSync(opts.outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(opts.outDir, '.fasmcov-tmp-'));
  const written: string[] = [];
  try {
    const map = toCoverageMap(merged, opts.root);
    const context = createContext({ dir: tmp, coverageMap: map, defaultSummarizer: 'nested' });
    for (const name of opts.reporters) {
      if (name === 'lcov') {
        fs.writeFileSync(path.join(tmp, 'lcov.info'), writeLcov(perTest, { root: opts.root }));
        createReporter('html', { subdir: 'lcov-report' }).execute(context);
        written.push('lcov.info', 'lcov-report/');
      } else if (name === 'asm-html' || name === 'flamegraph') {
        if (written.includes('asm-html/')) continue;
        writeAsmHtml(perTest, {
          root: opts.root,
          outDir: path.join(tmp, 'asm-html'),
          title: opts.title,
          firstFolders: opts.firstFolders,
          profile: opts.profile,
        });
        written.push('asm-html/');
      } else {
        const spec = ISTANBUL[name];
        if (name === 'text' || name === 'text-summary') {
          const file = `.${name}.txt`;
          createReporter(spec.type, { file }).execute(context);
          (opts.print ?? ((t: string) => process.stdout.write(t)))(
            fs.readFileSync(path.join(tmp, file), 'utf8'),
          );
          fs.rmSync(path.join(tmp, file));
          continue;
        }
        createReporter(spec.type, spec.options ?? {}).execute(context);
        written.push(
          ...fs.readdirSync(tmp).filter((f) => !written.includes(f) && !written.includes(`${f}/`)),
        );
      }
    }
    for (const entry of fs.readdirSync(tmp)) {
      fs.rmSync(path.join(opts.outDir, entry), { recursive: true, force: true });
      fs.renameSync(path.join(tmp, entry), path.join(opts.outDir, entry));
    }
    return [...new Set(written)].sort();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
