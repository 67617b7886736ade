import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Qcow2Image,
  UMKA_IMAGES,
  doubleDirName,
  populate,
  positionPattern,
  rangeDirName,
} from '@fasmcov/tracer';
import { crc32, gptChunks, guidBytes, partitionGuid, sgdiskSize } from '../../src/umka/gpt-writer';
import { chunkSource, writeQcow2From } from '../../src/umka/qcow2-writer';

// The parts of UMKa's image recipes that need no root: folder names, the position pattern, the
// operations on a plain folder, and the GPT writer for disks too large to exist (against sgdisk).

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-populate-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const has = (tool: string, arg = '--version') => !spawnSync(tool, [arg]).error;

describe('names', () => {
  it('pads folder numbers to ten digits and adds the x run of the range', () => {
    expect(rangeDirName(0, 0, 1)).toBe('d0000000000_');
    expect(rangeDirName(7, 0, 244)).toBe('d0000000007_xxxxxxx');
    expect(rangeDirName(12, 201, 43)).toBe(`d0000000012_${'x'.repeat(213)}`);
    expect(rangeDirName(4294967295, 0, 1)).toBe('d4294967295_');
    expect(doubleDirName('d', 42)).toBe('d0000000042');
  });
});

describe('position pattern', () => {
  it('holds each position in a unit as wide as the position needs', () => {
    const b = positionPattern(0, 0x10010);
    for (let p = 0; p < 0x100; p++) expect(b[p]).toBe(p);
    expect(b.readUInt16LE(0x100)).toBe(0x100);
    expect(b.readUInt16LE(0xfffe)).toBe(0xfffe);
    expect(b.readUInt32LE(0x10000)).toBe(0x10000);
    expect(b.readUInt32LE(0x1000c)).toBe(0x1000c);
  });

  it('starts the units afresh in every 16-byte piece from the offset, cutting the last unit of a piece', () => {
    // Pieces start at 0xfffd, 0x1000d: in the first, 16-bit units at fffd, ffff, then 32-bit
    // units at 10001, 10005, 10009 (cut after two bytes); the second starts at 1000d.
    const b = positionPattern(0xfffd, 20);
    const want = Buffer.alloc(20 + 4);
    want.writeUInt16LE(0xfffd, 0);
    want.writeUInt16LE(0xffff, 2);
    want.writeUInt32LE(0x10001, 4);
    want.writeUInt32LE(0x10005, 8);
    want.writeUInt32LE(0x10009, 12);
    want.writeUInt32LE(0x1000d, 16);
    expect(b.toString('hex')).toBe(want.subarray(0, 20).toString('hex'));
    // Above 4 GiB: 64-bit units.
    const big = positionPattern(0x120000000, 16);
    expect(big.readBigUInt64LE(0)).toBe(0x120000000n);
    expect(big.readBigUInt64LE(8)).toBe(0x120000008n);
  });
});

describe('populate on a host folder', () => {
  it('makes folders, double folders, pattern files with holes, text files and times', () => {
    const root = fs.mkdtempSync(path.join(work, 'tree-'));
    populate(root, [
      { op: 'mkdir', path: 'a/b' },
      { op: 'dirRange', dir: 'a', begin: 0, end: 3, patMin: 1, patMax: 2 },
      { op: 'doubleDirs', dir: 'a/b', prefix: 'q', count: 2 },
      { op: 'pattern', file: 'p', offset: 0x4000, length: 0x100 },
      { op: 'write', path: 'a/t', text: 'привет\n' },
      { op: 'touch', path: 'a/t', atime: '200504031122.33', mtime: '203504031122.44' },
    ]);
    expect(fs.readdirSync(path.join(root, 'a')).sort()).toEqual(
      ['b', 'd0000000000_x', 'd0000000001_xx', 'd0000000002_x', 't'].sort(),
    );
    expect(fs.readdirSync(path.join(root, 'a/b/q0000000001'))).toEqual(['q0000000001']);
    const p = fs.readFileSync(path.join(root, 'p'));
    expect(p.length).toBe(0x4100);
    expect(p.subarray(0, 0x4000).every((x) => x === 0)).toBe(true);
    expect(p.subarray(0x4000).equals(positionPattern(0x4000, 0x100))).toBe(true);
    // Times first: reading the file would move atime (relatime, as atime < mtime).
    const st = fs.statSync(path.join(root, 'a/t'));
    expect(st.atime.toISOString()).toBe('2005-04-03T11:22:33.000Z');
    expect(st.mtime.toISOString()).toBe('2035-04-03T11:22:44.000Z');
    expect(fs.readFileSync(path.join(root, 'a/t'), 'utf8')).toBe('привет\n');
  });

  it('names the folder it cannot make', () => {
    const root = fs.mkdtempSync(path.join(work, 'tree-'));
    expect(() =>
      populate(root, [{ op: 'dirRange', dir: 'missing', begin: 0, end: 1, patMin: 0, patMax: 1 }]),
    ).toThrow(/cannot make folder .*missing\/d0000000000_/);
  });
});

describe('GPT writer', () => {
  it('computes the CRC-32 the GPT uses', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('derives partition GUIDs from the disk GUID', () => {
    expect(partitionGuid('abcdefff-0123-4554-3210-ffeeddccbbaa', 1)).toBe(
      'abcdf000-0123-4554-3210-ffeeddccbbaa',
    );
    expect(partitionGuid('0000ffff-0123-4554-3210-ffeeddccbbaa', 2)).toBe(
      '00000001-0123-4554-3210-ffeeddccbbaa',
    );
  });

  it('reads sgdisk sizes', () => {
    expect(sgdiskSize('0:0:+1023MiB')).toBe(1023 * 2 ** 20);
    expect(sgdiskSize('0:0:+1023PiB')).toBe(1023 * 2 ** 50);
    expect(() => sgdiskSize('0:4MiB:+1MiB')).toThrow(/only 0:0:\+<n><unit>iB/);
  });

  (has('sgdisk') ? it : it.skip)(
    'writes the headers and entries sgdisk writes for the same partitions',
    () => {
      const disk = 'abcdefff-0123-4554-3210-ffeeddccbbaa';
      const raw = path.join(work, 'gpt.raw');
      fs.writeFileSync(raw, '');
      fs.truncateSync(raw, 1 << 30);
      const r = spawnSync('sgdisk', [
        '--align-end',
        '--clear',
        `--disk-guid=${disk}`,
        '--new=0:0:+100MiB',
        '--new=0:0:+200MiB',
        '--new=0:0:+3MiB',
        // Our unique partition GUIDs: the disk's with the first field's low half plus the number.
        '-u',
        '1:abcdf000-0123-4554-3210-ffeeddccbbaa',
        '-u',
        '2:abcdf001-0123-4554-3210-ffeeddccbbaa',
        '-u',
        '3:abcdf002-0123-4554-3210-ffeeddccbbaa',
        raw,
      ]);
      expect(r.status).toBe(0);
      const theirs = fs.readFileSync(raw);
      const chunks = gptChunks({
        size: 1 << 30,
        sectorSize: 512,
        diskGuid: disk,
        partitions: [100, 200, 3].map((m) => m << 20),
      });
      expect(chunks.map((c) => c.offset)).toEqual([0, 512, 1024, (1 << 30) - 33 * 512, (1 << 30) - 512]);
      for (const c of chunks.slice(1))
        expect(Buffer.from(c.bytes).equals(theirs.subarray(c.offset, c.offset + c.bytes.length))).toBe(true);
      // The protective MBR: the same but for the CHS address of its end (ours says "beyond CHS").
      const mbr = Buffer.from(chunks[0].bytes);
      const want = Buffer.from(theirs.subarray(0, 512));
      want.fill(0xff, 451, 454);
      expect(mbr.equals(want)).toBe(true);
      expect(guidBytes(disk).toString('hex')).toBe(theirs.subarray(512 + 56, 512 + 72).toString('hex'));
    },
  );

  it('puts the 2 EiB test disk into a qcow2 that reads back its tables', () => {
    const spec = UMKA_IMAGES['gpt_large.qcow2'];
    const size = spec.size;
    const chunks = gptChunks({
      size,
      sectorSize: 512,
      diskGuid: 'abcdefff-0123-4554-3210-ffeeddccbbaa',
      partitions: (spec.partitions as string[]).map(sgdiskSize),
    });
    const file = path.join(work, 'large.qcow2');
    writeQcow2From(chunkSource(size, chunks), file, 21);
    expect(fs.statSync(file).size).toBeLessThan(64 << 20);
    const img = new Qcow2Image(file);
    expect(img.size).toBe(2n ** 61n);
    for (const c of chunks)
      expect(img.read(c.offset, c.bytes.length).equals(Buffer.from(c.bytes))).toBe(true);
    const entries = img.read(1024, 4 * 128);
    const firstLbas = [0, 1, 2, 3].map((i) => entries.readBigUInt64LE(i * 128 + 32));
    expect(firstLbas).toEqual([2048n, 2097152n, 2147483648n, 2199023255552n]);
    expect(entries.readBigUInt64LE(3 * 128 + 40) - entries.readBigUInt64LE(3 * 128 + 32) + 1n).toBe(
      2249600790429696n,
    );
    img.close();
    if (has('qemu-img')) {
      const check = spawnSync('qemu-img', ['check', file], { encoding: 'utf8' });
      expect(check.stdout).toContain('No errors were found');
    }
  });
});
