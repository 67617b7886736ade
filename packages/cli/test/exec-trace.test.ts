import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import type { CoverageDocument } from '@fasmcov/report';
import { repoRoot, runCli } from './helpers/cli';

// End to end on a real fasm program: exec with traces → run directory → report through the .fas.
describe('fasmcov exec --trace → fasmcov report', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-exectrace-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'sum.asm');
  fs.copyFileSync(path.join(repoRoot, 'fixtures/programs/sum.asm'), src);
  assemble(src, { output: path.join(dir, 'sum'), symbols: path.join(dir, 'sum.fas') });
  const lines = fs.readFileSync(src, 'utf8').split('\n');
  const lineOf = (text: string) => lines.findIndex((l) => l.includes(text)) + 1;

  const exec = runCli(['exec', '--trace', 'edges,pt', '--trace', 'lbr', '--run-dir', 'run', 'sum'], {
    cwd: dir,
  });

  function report(source: string): CoverageDocument {
    const out = `out-${source}`;
    const r = runCli(
      ['report', 'run', '--fas', 'sum.fas', '--trace-source', source, '-o', out, '-r', 'lcov'],
      {
        cwd: dir,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = runCli(['merge', `${out}/lcov.info`, '-o', `${out}/cov.json`], { cwd: dir });
    expect(m.status).toBe(0);
    return (JSON.parse(fs.readFileSync(path.join(dir, out, 'cov.json'), 'utf8')) as CoverageDocument[])[0];
  }

  it('runs the program unchanged and writes a complete run directory', () => {
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe('odd=5\n');
    expect(exec.status).toBe(0);
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'run/run.json'), 'utf8'));
    expect(info).toMatchObject({ schema: 'fasmcov-run@1', test: 'sum', traces: ['edges', 'pt', 'lbr'] });
    expect(info.end).toEqual({ kind: 'exit', status: 0 });
    for (const f of ['image.bin', 'edges.json', 'trace.pt', 'trace.sideband.json', 'lbr.json', 'lbr.txt']) {
      expect(fs.existsSync(path.join(dir, 'run', f))).toBe(true);
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('maps the counts to the lines the program semantics say', () => {
    const doc = report('edges');
    const file = doc.files.find((f) => f.path === 'sum.asm');
    const hits = (text: string) => file?.lines.find((l) => l.line === lineOf(text))?.hits;
    expect(hits('xor     esi, esi')).toBe(1);
    expect(hits('mov     eax, ecx')).toBe(10);
    expect(hits('inc     edi')).toBe(5);
    expect(hits('test    eax, 1')).toBe(10);
    expect(hits('mov     ebx, 1\n')).toBeUndefined();
    expect(hits('mov     eax, 1                  ; exit(1)')).toBe(0);
    const arm = (text: string) => {
      const b = file?.branches.find((x) => x.line === lineOf(text));
      return b && [b.taken, b.notTaken];
    };
    expect(arm('jz      even')).toEqual([5, 5]);
    expect(arm('loop    next')).toEqual([9, 1]);
    expect(arm('jne     wrong')).toEqual([0, 1]);
    // the entry point counts as a function entered once (from the host), is_odd by its calls
    expect(file?.functions).toEqual([
      { name: 'start', line: lineOf('start:'), hits: 1 },
      { name: 'is_odd', line: lineOf('is_odd:'), hits: 10 },
    ]);
    const ints = file?.lines.filter((l) => lines[l.line - 1].includes('int     0x80')).map((l) => l.hits);
    expect(ints).toEqual([1, 1, 0]); // write, exit(0), exit(1)
  });

  it('trace decode counts exactly the instructions the run retired while tracing', () => {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'run/run.json'), 'utf8'));
    expect(info.tracedInstructions).toBe(info.instructions);
    const r = runCli(['trace', 'decode', 'run/trace.pt', '--image', 'run/trace.sideband.json', '--json'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const decoded = JSON.parse(r.stdout);
    expect(decoded.instructions).toBe(info.instructions);
    const edges = JSON.parse(fs.readFileSync(path.join(dir, 'run/edges.json'), 'utf8')).edges;
    expect(decoded.edges).toEqual(edges);
  });

  it('trace decode reports a damaged trace with the byte offset, exit 1', () => {
    const pt = fs.readFileSync(path.join(dir, 'run/trace.pt'));
    fs.mkdirSync(path.join(dir, 'cut'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'cut/trace.pt'), pt.subarray(0, pt.length - 3));
    const sb = JSON.parse(fs.readFileSync(path.join(dir, 'run/trace.sideband.json'), 'utf8'));
    sb.sections = sb.sections.map((s: { file: string }) => ({ ...s, file: '../run/image.bin' }));
    fs.writeFileSync(path.join(dir, 'cut/trace.sideband.json'), JSON.stringify(sb));
    const r = runCli(['trace', 'decode', 'cut/trace.pt', '--image', 'cut/trace.sideband.json'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fasmcov: cut\/trace\.pt: decode error at byte 0x[0-9a-f]+ \(\w+\): .+\n$/);
  });

  it('gives identical coverage from the PT trace and from the edges', () => {
    expect(report('pt')).toEqual(report('edges'));
  });
});
