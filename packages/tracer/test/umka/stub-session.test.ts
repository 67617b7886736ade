import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { runUmkaScript, UmkaSession, UMKA_SHELL_COMMANDS, unservedCommands } from '@fasmcov/tracer';

// fasmcov's UMKa session and shell against a small fasm kernel with umka.o's entry points
// (stub-kernel.asm): runs without a KolibriOS or UMKa checkout. The expected transcripts follow
// from what the stub answers and umka_shell's output format.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-umka-stub-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let stub: Buffer | undefined;
function stubKernel(): Buffer {
  if (!stub) {
    const out = path.join(work, 'stub.o');
    assemble(path.join(__dirname, 'stub-kernel.asm'), { output: out });
    stub = fs.readFileSync(out);
  }
  return stub;
}

/** The first bytes of the test disk: 'abc' then 03 04 05 ... */
const HEAD = Buffer.from([0x61, 0x62, 0x63, ...Array.from({ length: 61 }, (_, i) => i + 3)]);

/** An 8 MiB raw disk starting with HEAD. */
function disk(name = 'disk.raw'): string {
  const file = path.join(work, name);
  const bytes = Buffer.alloc(8 << 20);
  HEAD.copy(bytes);
  fs.writeFileSync(file, bytes);
  return file;
}

function run(script: string): string {
  disk();
  return runUmkaScript({
    kernel: stubKernel(),
    kernelFile: 'stub.o',
    script: path.join(work, 'run.us'),
    scriptText: script,
    cwd: work,
  }).transcript;
}

describe('UMKa shell on a stub kernel', () => {
  it('boots, adds a disk and prints its partitions', () => {
    const t = run('umka_boot\ndisk_add disk.raw hd0 -c 0\n');
    expect(t).toBe(
      [
        '/> umka_boot',
        '/> disk_add disk.raw hd0 -c 0',
        '/hd0: sector_size=512, capacity=16384 (8 MiB), num_partitions=1',
        '/hd0/1: fs=fat, start=2048 (1 MiB), length=12288 (6 MiB)',
        '',
      ].join('\n'),
    );
  });

  it('lists folders in batches with the record size of the encoding', () => {
    const t = run('umka_boot\nls70 /hd0/1/ -e cp866\nls80 /x -c 2\nls80 /x -f 1\n');
    expect(t).toBe(
      [
        '/> umka_boot',
        '/> ls70 /hd0/1/ -e cp866',
        'status = 6 end_of_file, count = 3',
        'total = 3',
        '----- a',
        '-h--- bb',
        '----f ccc',
        '/> ls80 /x -c 2',
        'status = 0 success, count = 2',
        '----- a',
        '-h--- bb',
        '/> ls80 /x -f 1',
        'status = 6 end_of_file, count = 2',
        'total = 3',
        '-h--- bb',
        '----f ccc',
        '',
      ].join('\n'),
    );
  });

  it('reads with hex dumps and SHA3-256 hashes, and stats files', () => {
    process.env.TZ = 'UTC';
    const t = run(
      'umka_boot\ndisk_add disk.raw hd0\nread70 /f 0 40 -b\nread80 /f 0 3 -h\nread80 /f 0 0 -h -b\n' +
        'read70 /f x 1\nstat70 /file -c\nstat80 /missing\n',
    );
    expect(t.split('\n').slice(4)).toEqual([
      '/> read70 /f 0 40 -b',
      'status = 6 end_of_file, count = 16',
      HEAD.subarray(0, 16).toString('hex'),
      '/> read80 /f 0 3 -h',
      'status = 0 success, count = 3',
      // FIPS 202 test vectors: SHA3-256("abc") and SHA3-256("").
      '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
      '/> read80 /f 0 0 -h -b',
      'status = 0 success, count = 0',
      '',
      'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
      '/> read70 /f x 1',
      'invalid number: x',
      '/> stat70 /file -c',
      'status = 0 success',
      'attr: r----',
      'size: 1234',
      // The stub's time_to_epoch returns the time dword: 0x00020304 seconds after 1970.
      'ctime: 1970.01.02 12:37:24',
      '/> stat80 /missing',
      'status = 5 file_not_found',
      '',
    ]);
  });

  it('changes folder (the prompt follows), deletes disks, goes on after an empty line and stops at X', () => {
    const t = run(
      'umka_boot\n# a comment\ncd /hd0/1/dir\npwd\nfoo 1\ndisk_add disk.raw hd0\ndisk_del hd0\ndisk_del hd0\n\npwd\nX\npwd\n',
    );
    expect(t).toBe(
      [
        '/> umka_boot',
        '/> # a comment',
        '/> cd /hd0/1/dir',
        'dir> pwd',
        '/hd0/1/dir',
        'dir> foo 1',
        'unknown command: foo',
        'dir> disk_add disk.raw hd0',
        '/hd0: sector_size=512, capacity=16384 (8 MiB), num_partitions=1',
        '/hd0/1: fs=fat, start=2048 (1 MiB), length=12288 (6 MiB)',
        'dir> disk_del hd0',
        'dir> disk_del hd0',
        "umka: can't find disk 'hd0'",
        'dir> ',
        'dir> pwd',
        '/hd0/1/dir',
        'dir> X',
        '',
      ].join('\n'),
    );
  });

  it('takes a word that names an Object method for an unknown command', () => {
    const t = run('umka_boot\ntoString\nconstructor 1\n');
    expect(t.split('\n').slice(1, 5)).toEqual([
      '/> toString',
      'unknown command: toString',
      '/> constructor 1',
      'unknown command: constructor',
    ]);
  });

  it('lists the commands a script uses that it does not serve', () => {
    expect(unservedCommands('umka_boot\n#i40\n\n  ls70 /\nnet_open 1\ni40 2\nnet_open\nq\nfoo\n')).toEqual([
      'net_open',
      'i40',
    ]);
    expect(unservedCommands(UMKA_SHELL_COMMANDS.join('\n'))).toEqual([]);
  });

  it('refuses images of unknown format like umka_shell', () => {
    fs.writeFileSync(path.join(work, 'disk.img'), Buffer.alloc(4096));
    const t = run('umka_boot\ndisk_add disk.img hd0\n');
    expect(t.split('\n')[2]).toBe("umka: can't add file 'disk.img' as disk 'hd0'");
  });

  it('reads the DISK structure the stub filled', () => {
    const s = new UmkaSession(stubKernel(), 'stub.o');
    s.boot();
    expect(s.booted).toBe(true);
    expect(s.findDisk('hd0')).toBeUndefined();
    s.close();
  });
});
