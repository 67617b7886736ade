import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COVERAGE_SCHEMA } from '@fasmcov/report';
import { fsTotalLine, selectTests, whyNotRunnable } from '../src/commands/kolibrios';

// `fasmcov kolibrios --tests all` walks UMKa's whole test/ folder: what it cannot run (a partial
// checkout, a script for the mouse or the network) is a skip with the reason, not an abort.

let umka: string;

function folder(name: string, files: Record<string, string>): string {
  const dir = path.join(umka, 'test', name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return dir;
}

beforeAll(() => {
  umka = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-umka-'));
  folder('t002', { 'run.us': 'umka_boot\nstat70 /hd0/1/a\n', 'ref.log': '' });
  folder('t010', { 'run.us': 'umka_boot\n' });
  folder('t001', {
    'run.us':
      '# mouse\numka_boot\nset_mouse_pos_screen 1 2\nstat70 /\nset_mouse_pos_screen 3 4\ni40 18\nX\nnet_open\n',
    'ref.log': '',
  });
  folder('t003', { 'run.us': 'a\nb\nc\nd\ne\n', 'ref.log': '' });
  folder('d023', { 'run.us': '' });
  fs.mkdirSync(path.join(umka, 'test', 'machines'));
});

afterAll(() => fs.rmSync(umka, { recursive: true, force: true }));

describe('kolibrios test selection', () => {
  it('takes every tNNN folder for all, in order, and a list as given', () => {
    expect(selectTests(umka, 'all')).toEqual(['t001', 't002', 't003', 't010']);
    expect(selectTests(umka, 't010, t002')).toEqual(['t010', 't002']);
    expect(selectTests(umka, undefined)).toEqual(['t062', 't063', 't060', 't061']);
  });

  it('names a test folder that does not exist', () => {
    expect(() => selectTests(umka, 't002,t999')).toThrow(/test[/\\]t999: no such test folder/);
    expect(() => selectTests(path.join(umka, 'nope'), 'all')).toThrow(/nope[/\\]test: no such folder/);
  });

  it('skips a folder without ref.log and a script outside the file-system commands', () => {
    expect(whyNotRunnable(path.join(umka, 'test', 't002'))).toBeUndefined();
    expect(whyNotRunnable(path.join(umka, 'test', 't010'))).toMatch(
      /^the checkout has no ref\.log in .*t010$/,
    );
    expect(whyNotRunnable(path.join(umka, 'test', 'd023'))).toMatch(/no ref\.log/);
    expect(whyNotRunnable(path.join(umka, 'test', 't003'))).toBe(
      "not a file-system test: uses a, b, c and 2 more, which fasmcov's shell does not serve",
    );
    expect(whyNotRunnable(path.join(umka, 'test', 't001'))).toBe(
      "not a file-system test: uses set_mouse_pos_screen, i40, which fasmcov's shell does not serve",
    );
  });
});

describe('kolibrios coverage lines', () => {
  it('totals the fs/ files only: lines and both arms of each branch', () => {
    const line = (n: number, hits: number) => ({ line: n, hits, instructions: hits });
    const text = fsTotalLine('t062', {
      schema: COVERAGE_SCHEMA,
      test: 't062',
      files: [
        {
          path: 'kernel/trunk/fs/fat.inc',
          lines: [line(1, 3), line(2, 0), line(3, 1)],
          branches: [{ line: 3, index: 0, taken: 2, notTaken: 0 }],
          functions: [],
        },
        {
          path: 'kernel/trunk/fs/xfs.asm',
          lines: [line(1, 0)],
          branches: [{ line: 1, index: 0, taken: 0, notTaken: 0 }],
          functions: [],
        },
        { path: 'kernel/trunk/blkdev/disk.inc', lines: [line(1, 5)], branches: [], functions: [] },
      ],
    });
    expect(text).toBe('t062: kernel/trunk/fs lines 2/4 (50.0%), branch arms 1/4 (25.0%)');
  });
});
