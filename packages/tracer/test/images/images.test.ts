import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type BuiltImage,
  buildImage,
  catExt2,
  catFat,
  checkImageAfterWrites,
  checkReferenceLog,
  checkReferenceLogDetailed,
  fatClusters,
  fsckExt2,
  fsckFat,
  imagesByName,
  listExt2,
  listFat,
  missingImageTools,
  partitionFile,
  statExt2,
} from '../../src/images';

const recipesDir = path.resolve(__dirname, '../../../../fixtures/images');
const recipes = fs.readdirSync(recipesDir).filter((f) => f.endsWith('.json'));
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-images-'));
const missing = missingImageTools();
const maybe = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0)
  process.stdout.write(`image tools missing (${missing.join(', ')}): image tests skipped\n`);
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

const built = new Map<string, BuiltImage>();
function image(name: string): BuiltImage {
  let b = built.get(name);
  if (!b) {
    b = buildImage(path.join(recipesDir, `${name}.json`), cache);
    built.set(name, b);
  }
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const host = (b: BuiltImage, n: number, rel: string): Buffer =>
  fs.readFileSync(path.join(b.partitions[n - 1].hostTree, rel));

maybe('disk-image recipes', () => {
  test('every recipe builds, with its host tree, in little time', () => {
    const t0 = Date.now();
    for (const r of recipes) {
      const b = image(path.basename(r, '.json'));
      expect(fs.statSync(b.image).size).toBe(b.recipe.size);
      for (const p of b.partitions) expect(fs.existsSync(p.hostTree)).toBe(true);
    }
    expect(recipes.length).toBeGreaterThanOrEqual(14);
    expect(Date.now() - t0).toBeLessThan(40_000);
  });

  test('the same recipe builds to the same bytes', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-images2-'));
    try {
      for (const name of ['fat-fragmented', 'mbr-mixed', 'ext2-4k', 'corrupt-fat-cycle']) {
        const again = buildImage(path.join(recipesDir, `${name}.json`), other);
        expect(again.sha256).toBe(image(name).sha256);
        expect(again.image).not.toBe(image(name).image);
      }
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  test('a cached image is reused, and a changed recipe is rebuilt', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-images3-'));
    try {
      const recipe = path.join(dir, 'tiny.json');
      const text = (s: string): string =>
        JSON.stringify({
          version: 1,
          size: '1440KiB',
          partitions: [{ fs: { type: 'fat12' }, tree: [{ file: 'a.txt', text: s }] }],
        });
      fs.writeFileSync(recipe, text('one'));
      const first = buildImage(recipe, dir);
      const mtime = fs.statSync(first.image).mtimeMs;
      expect(buildImage(recipe, dir).sha256).toBe(first.sha256);
      expect(fs.statSync(first.image).mtimeMs).toBe(mtime);
      fs.writeFileSync(recipe, text('two'));
      const second = buildImage(recipe, dir);
      expect(second.sha256).not.toBe(first.sha256);
      expect(catFat(second.image, 0, 'a.txt')?.toString()).toBe('two');
      expect(fs.readdirSync(dir).filter((f) => f.startsWith('.build'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failing tool is named with what it said', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-images4-'));
    try {
      const recipe = path.join(dir, 'bad.json');
      // mkfs.fat refuses 3 sectors per cluster (not a power of two), and says so.
      const bad = { version: 1, size: '2MiB', partitions: [{ fs: { type: 'fat12', clusterSectors: 3 } }] };
      fs.writeFileSync(recipe, JSON.stringify(bad));
      expect(() => buildImage(recipe, dir)).toThrow(/^mkfs\.fat .* -s 3 .*failed \(exit 1\): /);
      expect(fs.existsSync(path.join(dir, 'bad.img'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('FAT oracles agree with the host tree, long and non-ASCII names included', () => {
    const b = image('fat32-names');
    const root = listFat(b.image, 0, '')!.map((e) => e.name);
    expect(new Set(root)).toEqual(new Set(fs.readdirSync(b.partitions[0].hostTree)));
    const many = listFat(b.image, 0, 'many')!;
    expect(many.slice(0, 2).map((e) => e.name)).toEqual(['.', '..']);
    expect(many.length).toBe(2 + 301);
    const rel = 'Ünïcödé folder/Ёжик в тумане/naïve résumé.txt';
    expect(catFat(b.image, 0, rel)).toEqual(host(b, 1, rel));
    expect(fsckFat(b.image, 0).ok).toBe(true);
  });

  test('FAT files span many clusters, and the fragmented recipe fragments', () => {
    const f = image('fat-fragmented');
    const runs = (cl: number[]): number => cl.filter((c, i) => i === 0 || c !== cl[i - 1] + 1).length;
    expect(runs(fatClusters(f.image, 'fragmented.bin'))).toBeGreaterThan(2);
    expect(runs(fatClusters(f.image, 'a1.bin'))).toBeGreaterThan(1);
    expect(catFat(f.image, 0, 'fragmented.bin')).toEqual(host(f, 1, 'fragmented.bin'));
    expect(catFat(f.image, 0, 'a1.bin')).toEqual(host(f, 1, 'a1.bin'));
    expect(catFat(f.image, 0, 'a2.bin')).toBeNull();
    expect(fs.existsSync(path.join(f.partitions[0].hostTree, 'a2.bin'))).toBe(false);
    const big = image('fat32');
    expect(fatClusters(big.image, 'big/pattern-3m.bin').length).toBe((3 << 20) / 512);
  });

  test('ext2 oracles: sparse, double- and triple-indirect files, symlinks', () => {
    const b = image('ext2-1k');
    const st = statExt2(b.image, 0, 'tind.sparse')!;
    expect(st.blocks).toMatch(/TIND/);
    expect(st.size).toBe(fs.statSync(path.join(b.partitions[0].hostTree, 'tind.sparse')).size);
    expect(statExt2(b.image, 0, 'dind.bin')!.blocks).toMatch(/DIND/);
    expect(sha(catExt2(b.image, 0, 'tind.sparse')!)).toBe(sha(host(b, 1, 'tind.sparse')));
    const names = listExt2(b.image, 0, '')!.map((e) => e.name);
    expect(new Set(names)).toEqual(
      new Set(['.', '..', 'lost+found', ...fs.readdirSync(b.partitions[0].hostTree)]),
    );
    const k4 = image('ext2-4k');
    expect(statExt2(k4.image, 0, 'usr/long-link')!.type).toBe('symlink');
    expect(listExt2(k4.image, 0, 'many')!.length).toBe(202);
    expect(fsckExt2(b.image, 0).ok).toBe(true);
  });

  test('partitioned disks: each partition is found at its offset', () => {
    const m = image('mbr-mixed');
    expect(m.partitions.map((p) => [p.number, p.fs, p.start])).toEqual([
      [1, 'fat16', 2048],
      [2, 'ext2', 43008],
      [3, 'fat12', 61440],
    ]);
    expect(catFat(m.image, m.partitions[0].offset, 'first.txt')).toEqual(host(m, 1, 'first.txt'));
    expect(catExt2(m.image, m.partitions[1].offset, 'dir/data.bin', m.partitions[1].sectors * 512)).toEqual(
      host(m, 2, 'dir/data.bin'),
    );
    expect(catFat(m.image, m.partitions[2].offset, 'third.txt')).toEqual(host(m, 3, 'third.txt'));
    const g = image('gpt');
    expect(g.partitions.map((p) => p.fs)).toEqual(['fat32', 'ext2']);
    expect(fsckFat(g.image, g.partitions[0].offset, g.partitions[0].sectors * 512).ok).toBe(true);
    expect(fsckExt2(g.image, g.partitions[1].offset, g.partitions[1].sectors * 512).ok).toBe(true);
  });

  test('corruption patches change what fsck says', () => {
    for (const name of ['corrupt-fat-cycle', 'corrupt-fat-range', 'corrupt-fat-dirent']) {
      const r = fsckFat(image(name).image, 0);
      expect({ name, ok: r.ok }).toEqual({ name, ok: false });
    }
    expect(fsckFat(image('corrupt-fat-cycle').image, 0).output).toMatch(/[Cc]ircular/);
    const boot = image('corrupt-fat-boot');
    expect(fsckFat(boot.image, boot.partitions[0].offset, boot.partitions[0].sectors * 512).ok).toBe(false);
    expect(fsckFat(boot.image, boot.partitions[1].offset, boot.partitions[1].sectors * 512).ok).toBe(true);
    for (const name of ['corrupt-ext2-magic', 'corrupt-ext2-inode', 'corrupt-ext2-reclen'])
      expect({ name, ok: fsckExt2(image(name).image, 0).ok }).toEqual({ name, ok: false });
    expect(fsckExt2(image('corrupt-ext2-inode').image, 0).output).toMatch(/4000000000/);
    for (const clean of ['fat16', 'fat12-floppy', 'fat16-full'])
      expect(fsckFat(image(clean).image, 0).ok).toBe(true);
  });
});

maybe('reference-log checker', () => {
  // A transcript written by hand from the recipe and the host tree (never from fasmcov's kernel).
  function fat16Transcript(): string {
    const b = image('fat16');
    const big = host(b, 1, 'big.bin');
    const file = host(b, 1, 'dir/file.txt');
    const sectors = b.recipe.size / 512;
    const mib = Math.floor(sectors / 2048);
    return [
      '/> disk_add fat16.img hd0 -c 0',
      `/hd0: sector_size=512, capacity=${sectors} (${mib} MiB), num_partitions=1`,
      `/hd0/1: fs=fat16, start=0 (0 MiB), length=${sectors} (${mib} MiB)`,
      '/> # comments are echoed',
      '',
      '/> stat80 /hd0/1/dir/file.txt',
      'status = 0 success',
      'attr: -----',
      `size: ${file.length}`,
      'ctime: 2020.01.02 03:04:06',
      'atime: 2020.01.02 00:00:00',
      'mtime: 2020.01.02 03:04:06',
      '/> read80 /hd0/1/dir/file.txt 0 16 -b',
      'status = 0 success, count = 16',
      file.subarray(0, 16).toString('hex'),
      `/> read80 /hd0/1/big.bin 100 ${big.length} -h`,
      `status = 6 end_of_file, count = ${big.length - 100}`,
      sha(big.subarray(100)),
      `/> read80 /hd0/1/big.bin ${big.length} 1 -b`,
      'status = 6 end_of_file, count = 0',
      '',
      '/> ls80 /hd0/1/dir 0 100',
      'status = 6 end_of_file, count = 4',
      'total = 4',
      '----f .',
      '----f ..',
      '----- file.txt',
      '----f sub',
      '/> stat80 /hd0/1/no/such/file',
      'status = 5 file_not_found',
      '/> read80 /hd9/1/a 0 1 -b',
      'status = 5 file_not_found, count = 0',
      '/> stat80 /hd0/1/hidden.sys',
      'status = 0 success',
      'attr: -hs--',
      'size: 18',
      '/> cd /hd0/1/dir',
      '/> pwd',
      '/hd0/1/dir',
      '/> read80 file.txt 6 4 -b',
      'status = 0 success, count = 4',
      file.subarray(6, 10).toString('hex'),
      '',
    ].join('\n');
  }

  const ctx = (): { images: Record<string, BuiltImage> } => ({ images: imagesByName([image('fat16')]) });

  test('accepts a correct transcript', () => {
    expect(checkReferenceLog(fat16Transcript(), ctx())).toEqual([]);
  });

  test.each([
    ['a wrong hash', (t: string) => t.replace(/^[0-9a-f]{64}$/m, '0'.repeat(64)), /data/],
    ['a wrong size', (t: string) => t.replace(/^size: 24$/m, 'size: 25'), /size 25/],
    [
      'a missing entry',
      (t: string) => t.replace('----f sub\n', '').replace('count = 4\ntotal', 'count = 3\ntotal'),
      /missing/,
    ],
    [
      'a wrong status',
      (t: string) => t.replace('status = 0 success, count = 16', 'status = 5 file_not_found, count = 16'),
      /status 5/,
    ],
    [
      'a wrong read count',
      (t: string) =>
        t.replace(/count = (\d+)\n([0-9a-f]{64})/, (_m, n, h) => `count = ${Number(n) - 1}\n${h}`),
      /count/,
    ],
    [
      'a found missing file',
      (t: string) => t.replace('status = 5 file_not_found\n/> read80', 'status = 0 success\n/> read80'),
      /does not exist/,
    ],
    ['a wrong folder bit', (t: string) => t.replace('----f sub', '----- sub'), /folder bit/],
    ['a wrong partition line', (t: string) => t.replace('fs=fat16', 'fs=fat32'), /partition line/],
    ['a wrong attribute', (t: string) => t.replace('attr: -hs--', 'attr: --s--'), /mattrib/],
    [
      'a wrong time',
      (t: string) => t.replace('mtime: 2020.01.02 03:04:06', 'mtime: 2020.01.02 03:04:08'),
      /mtime/,
    ],
    ['a wrong pwd', (t: string) => t.replace('/> pwd\n/hd0/1/dir', '/> pwd\n/hd0/1/dir/sub'), /pwd/],
  ])('flags %s', (_what, mutate, message) => {
    const problems = checkReferenceLog(mutate(fat16Transcript()), ctx());
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
  });

  test('ext2 reads through triple-indirect blocks, and corrupt paths may fail with fs_error', () => {
    const b = image('ext2-1k');
    const tind = host(b, 1, 'tind.sparse');
    const at = 66 << 20;
    const c = image('corrupt-ext2-inode');
    const t = [
      '/> disk_add ext2-1k.img hd0',
      '/hd0: sector_size=512, capacity=32768 (16 MiB), num_partitions=1',
      '/hd0/1: fs=ext2, start=0 (0 MiB), length=32768 (16 MiB)',
      `/> read80 /hd0/1/tind.sparse ${at} 16 -b`,
      'status = 0 success, count = 16',
      tind.subarray(at, at + 16).toString('hex'),
      '/> disk_add corrupt-ext2-inode.img hd1',
      '/hd1: sector_size=512, capacity=8192 (4 MiB), num_partitions=1',
      '/hd1/1: fs=ext2, start=0 (0 MiB), length=8192 (4 MiB)',
      '/> read80 /hd1/1/badblock.bin 0 16 -b',
      'status = 9 fs_error, count = 0',
      '/> read80 /hd1/1/good.txt 0 4 -b',
      'status = 9 fs_error, count = 0',
    ].join('\n');
    const problems = checkReferenceLog(t, { images: imagesByName([b, c]) });
    expect(problems.map((p) => p.line)).toEqual([12]);
  });

  test('writes are followed, and the written image is checked with fsck and read back', () => {
    const b = image('fat16');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-writes-'));
    try {
      const data = Buffer.from('written by the test\n');
      fs.writeFileSync(path.join(dir, 'data.txt'), data);
      const t = [
        '/> disk_add fat16.img hd0',
        '/hd0: sector_size=512, capacity=65536 (32 MiB), num_partitions=1',
        '/hd0/1: fs=fat16, start=0 (0 MiB), length=65536 (32 MiB)',
        '/> write70 /hd0/1/dir/file.txt 6 data.txt',
        `status = 0 success, count = ${data.length}`,
        '/> read80 /hd0/1/dir/file.txt 6 4 -b',
        'status = 0 success, count = 4',
        data.subarray(0, 4).toString('hex'),
      ].join('\n');
      const result = checkReferenceLogDetailed(t, { images: imagesByName([b]), scriptDir: dir });
      expect(result.problems).toEqual([]);
      const expected = result.writes.map((w) => ({ ...w }));
      expect(expected[0].files.get('dir/file.txt')?.subarray(6, 6 + data.length)).toEqual(data);
      // Perform the same write with mtools on a copy: the checker must accept it...
      const copy = path.join(dir, 'copy.img');
      fs.copyFileSync(b.image, copy);
      const content = expected[0].files.get('dir/file.txt')!;
      fs.writeFileSync(path.join(dir, 'file.txt'), content);
      const { runTool } = jest.requireActual(
        '../../src/images/tools',
      ) as typeof import('../../src/images/tools');
      runTool('mcopy', ['-o', '-i', copy, path.join(dir, 'file.txt'), '::/dir/file.txt']);
      expect(checkImageAfterWrites(copy, b, expected)).toEqual([]);
      // ...and flag an image where the write did not happen.
      expect(checkImageAfterWrites(b.image, b, expected).join('\n')).toMatch(/differ/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('partitionFile copies a partition out of a disk', () => {
    const m = image('mbr-mixed');
    const p = m.partitions[1];
    const file = partitionFile(m.image, p.offset, p.sectors * 512);
    expect(fs.statSync(file).size).toBe(p.sectors * 512);
  });
});
