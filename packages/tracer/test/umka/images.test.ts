import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  FatFolders,
  Qcow2Image,
  VirtualDisk,
  folderName,
  sectorSizeOf,
  writeQcow2,
  xorshift32,
} from '@fasmcov/tracer';

// The image side of the UMKa mode: our qcow2 writer and reader against each other and against
// qemu-img, and FatFolders against mtools' view of the result.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-umka-img-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const has = (tool: string, arg = '--version') => !spawnSync(tool, [arg]).error;
const qemuImg = has('qemu-img');
const fatTools = has('mkfs.fat') && has('mdir', '-V');
if (!qemuImg)
  process.stdout.write('qemu-img is not installed: the qemu-img qcow2 cross-checks are skipped\n');
if (!fatTools) process.stdout.write('mkfs.fat/mtools are not installed: the FAT folder test is skipped\n');

/** 4 MiB raw disk: a few scattered runs of seeded bytes (some compressible, some not), zeros elsewhere. */
function rawDisk(file: string): Buffer {
  const bytes = Buffer.alloc(4 << 20);
  const next = xorshift32(7);
  for (const at of [0, 70000, 65536 * 5 + 100, (4 << 20) - 5000]) {
    for (let i = 0; i < 3000 && at + i < bytes.length; i++) bytes[at + i] = at % 2 ? i & 0xff : next() & 0xff;
  }
  fs.writeFileSync(file, bytes);
  return bytes;
}

function readAll(img: Qcow2Image): Buffer {
  return img.read(0, Number(img.size));
}

describe('qcow2', () => {
  it('reads back what the writer stored, sparse and compressed clusters alike', () => {
    const raw = path.join(work, 'a.raw');
    const bytes = rawDisk(raw);
    writeQcow2(raw, path.join(work, 'a.qcow2'));
    const img = new Qcow2Image(path.join(work, 'a.qcow2'));
    expect(img.size).toBe(BigInt(bytes.length));
    expect(readAll(img).equals(bytes)).toBe(true);
    // A read straddling two clusters.
    expect(img.read(65536 - 10, 30).equals(bytes.subarray(65536 - 10, 65536 + 20))).toBe(true);
    img.close();
    expect(fs.statSync(path.join(work, 'a.qcow2')).size).toBeLessThan(bytes.length / 4);
  });

  (qemuImg ? it : it.skip)('qemu-img accepts our images and we read its compressed ones', () => {
    const raw = path.join(work, 'b.raw');
    const bytes = rawDisk(raw);
    writeQcow2(raw, path.join(work, 'ours.qcow2'));
    const check = spawnSync('qemu-img', ['check', path.join(work, 'ours.qcow2')], { encoding: 'utf8' });
    expect(check.stdout).toContain('No errors were found');
    const back = path.join(work, 'back.raw');
    spawnSync('qemu-img', ['convert', '-O', 'raw', path.join(work, 'ours.qcow2'), back]);
    expect(fs.readFileSync(back).equals(bytes)).toBe(true);
    for (const opts of [['-c'], []]) {
      const theirs = path.join(work, `theirs${opts.length}.qcow2`);
      const r = spawnSync('qemu-img', [
        'convert',
        ...opts,
        '-O',
        'qcow2',
        '-o',
        'cluster_size=4096',
        raw,
        theirs,
      ]);
      expect(r.status).toBe(0);
      const img = new Qcow2Image(theirs);
      expect(readAll(img).equals(bytes)).toBe(true);
      img.close();
    }
  });

  it('refuses what it cannot read', () => {
    const f = path.join(work, 'not.qcow2');
    fs.writeFileSync(f, Buffer.alloc(512));
    expect(() => new Qcow2Image(f)).toThrow(/not a qcow2 file/);
  });
});

describe('VirtualDisk', () => {
  it('takes the format from the suffix and the sector size from the name, as UMKa does', () => {
    expect(sectorSizeOf('../../img/xfs_v4_ftype0_s4k_b4k_n8k.qcow2')).toBe(4096);
    expect(sectorSizeOf('iso9660_s2k_dir_all.qcow2')).toBe(2048);
    expect(sectorSizeOf('fat12_s05k.qcow2')).toBe(512);
    const raw = path.join(work, 'c.raw');
    const bytes = rawDisk(raw);
    const d = new VirtualDisk(raw);
    expect(d.sectors).toBe(BigInt(bytes.length / 512));
    expect(d.read(137n, 3).equals(bytes.subarray(137 * 512, 140 * 512))).toBe(true);
    // Past the end reads zeros, as a short read leaves UMKa's buffer.
    expect(
      d
        .read(d.sectors - 1n, 2)
        .subarray(512)
        .every((b) => b === 0),
    ).toBe(true);
    d.close();
    expect(() => new VirtualDisk(path.join(work, 'c.img'))).toThrow(/unknown image format/);
  });
});

(fatTools ? describe : describe.skip)('FatFolders', () => {
  it.each([12, 16])('adds folders in order to FAT%i, as mtools lists them', (bits) => {
    const part = path.join(work, `fat${bits}.img`);
    fs.writeFileSync(part, '');
    fs.truncateSync(part, (bits === 12 ? 8 : 32) << 20);
    expect(spawnSync('mkfs.fat', ['-F', String(bits), part]).status).toBe(0);
    const fat = new FatFolders(part);
    expect(fat.bits).toBe(bits);
    fat.mkdir('top');
    const names = Array.from({ length: 300 }, (_, i) => folderName(i));
    for (const n of names) fat.mkdir(`top/${n}`);
    fat.mkdir('top/d0000000007_/inner');
    fat.finish();
    const r = spawnSync('mdir', ['-i', part, '-b', '::/top'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(names.map((n) => `::/top/${n}/`));
    const inner = spawnSync('mdir', ['-i', part, '-b', '::/top/d0000000007_'], { encoding: 'utf8' });
    expect(inner.stdout.trim()).toBe('::/top/d0000000007_/inner/');
    const fsck = spawnSync('fsck.fat', ['-n', part], { encoding: 'utf8' });
    expect(fsck.status).toBe(0);
  });
});
