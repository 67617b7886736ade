import * as path from 'node:path';
import type { Command } from 'commander';
import { FasFile, FasFormatError, type FasAddress, type SourceFile, type SourceLocation } from '@fasmcov/fas';
import { CliError } from '../errors';

interface FasOptions {
  json?: boolean;
  where?: string;
  cwd?: string;
}

/** Paths are shown relative to the current directory when inside it. */
function show(file: SourceFile): string {
  const rel = path.relative(process.cwd(), file.path);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file.path;
}

function printLocation(loc: SourceLocation): void {
  const lines = [`${show(loc.file)}:${loc.line}`];
  for (const step of loc.chain) lines.push(`  via ${show(step.file)}:${step.line}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * `0x7c00`, `7c00h` and `7c00` are addresses; `.text:1f` is an offset in a named (or numbered)
 * section. A plain address in a relocatable object means an offset in `.text` (else section 1).
 */
function parseAddress(fas: FasFile, text: string): FasAddress | undefined {
  const m = /^(?:(.+):)?(?:0x([0-9a-f]+)|([0-9a-f]+)h?)$/i.exec(text);
  if (!m) return undefined;
  const offset = parseInt(m[2] ?? m[3], 16);
  if (m[1] === undefined) {
    if (!fas.relocatable) return { section: 0, offset };
    const text = fas.sections.indexOf('.text');
    return { section: text >= 0 ? text + 1 : 1, offset };
  }
  const byName = fas.sections.indexOf(m[1]);
  const section = byName >= 0 ? byName + 1 : /^\d+$/.test(m[1]) ? Number(m[1]) : -1;
  if (section < 0) throw new CliError(`no section '${m[1]}' (have: ${fas.sections.join(', ') || 'none'})`);
  return { section, offset };
}

function where(fas: FasFile, what: string): void {
  // A defined symbol wins over a hex reading of the same text (e.g. a label named `add`).
  const sym = /^0x/i.test(what) ? undefined : fas.symbol(what);
  if (sym) return printLocation(fas.locate(sym.lineIndex));
  const addr = parseAddress(fas, what);
  if (!addr) throw new CliError(`'${what}' is neither a symbol nor a hex address`);
  const loc = fas.findAddress(addr);
  const shown = `${addr.section ? `${fas.sections[addr.section - 1] ?? addr.section}:` : ''}0x${addr.offset.toString(16)}`;
  if (!loc) throw new CliError(`no instruction or data at ${shown} in ${fas.file}`);
  printLocation(loc);
}

function summary(fas: FasFile, json: boolean): void {
  const files = fas.summary().map((s) => ({
    file: show(s.file),
    lines: s.lines,
    codeLines: s.codeLines,
    bytes: s.bytes,
  }));
  const symbols = fas.symbols;
  const doc = {
    fas: fas.file,
    fasmVersion: `${fas.header.majorVersion}.${fas.header.minorVersion}`,
    input: fas.inputName,
    output: fas.outputName,
    assembled: fas.assembled,
    preprocessedLines: fas.lineCount,
    dumpRows: fas.rowCount,
    sections: fas.sections,
    symbols: symbols.length,
    definedSymbols: symbols.filter((s) => s.defined).length,
    files,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  const out = [
    `${doc.fas}: fasm ${doc.fasmVersion}, ${doc.input} -> ${doc.output}${doc.assembled ? '' : ' (not assembled)'}`,
    `${doc.preprocessedLines} preprocessed lines, ${doc.dumpRows} dump rows, ${doc.symbols} symbols (${doc.definedSymbols} defined), ` +
      `${doc.sections.length} sections${doc.sections.length ? ` (${doc.sections.join(', ')})` : ''}`,
    `${'lines'.padStart(8)} ${'code'.padStart(8)} ${'bytes'.padStart(10)}  file`,
  ];
  for (const f of files) {
    out.push(
      `${String(f.lines).padStart(8)} ${String(f.codeLines).padStart(8)} ${String(f.bytes).padStart(10)}  ${f.file}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

export function registerFas(program: Command): void {
  program
    .command('fas')
    .description('summarize a fasm symbolic file (.fas), or map an address or symbol to its source line')
    .argument('<file.fas>', 'symbolic file written by `fasm src.asm out -s file.fas`')
    .option('--json', 'print the summary as JSON')
    .option(
      '--where <address|symbol>',
      'print path:line (then `  via path:line` per macro invocation) of the instruction at a hex address ' +
        '(0x1f, 1fh; for object files an offset in .text, or section:hex like .data:4) or of a symbol definition',
    )
    .option('--cwd <dir>', 'directory fasm ran in, to resolve the recorded file names (default: current)')
    .action((file: string, opts: FasOptions) => {
      let fas: FasFile;
      try {
        fas = FasFile.read(file, { cwd: opts.cwd });
      } catch (e) {
        if (e instanceof FasFormatError) throw new CliError(e.message);
        throw e;
      }
      if (opts.where !== undefined) where(fas, opts.where);
      else summary(fas, opts.json === true);
    });
}
