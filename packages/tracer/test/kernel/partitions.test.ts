import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostDisk, ScriptRunner } from '@fasmcov/tracer';
import { openSession, tempDir } from './helpers';

// Partition detection against sfdisk's own reading of the tables it wrote (sfdisk -J).

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

function image(name: string, mib: number, table?: string): string {
  const file = path.join(tempDir(), name);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, mib << 20);
  if (table) sh('sfdisk', ['-q', '--no-reread', file], table);
  return file;
}

/** The transcript lines of `disk_add <file> hd0`. */
function diskAddLines(file: string): string[] {
  const s = openSession();
  const out: string[] = [];
  try {
    const r = new ScriptRunner(s, { script: 't.us', imageDir: tempDir(), fileDir: tempDir() }, (l) =>
      out.push(l),
    );
    r.runLine({
      line: 1,
      text: `disk_add ${file} hd0`,
      command: { kind: 'disk_add', image: file, name: 'hd0' },
    });
  } finally {
    s.close();
  }
  return out.slice(1);
}

const mib = (sectors: number) => `${sectors} (${Math.floor((sectors * 512) / (1 << 20))} MiB)`;

/** What the transcript must say according to sfdisk (extended containers are not partitions). */
function expectedFromSfdisk(file: string): string[] {
  const table = JSON.parse(sh('sfdisk', ['-J', file])) as {
    partitiontable: { partitions?: Array<{ start: number; size: number; type: string }> };
  };
  const parts = (table.partitiontable.partitions ?? []).filter((p) => !['5', 'f', '85'].includes(p.type));
  const sectors = fs.statSync(file).size / 512;
  return [
    `/hd0: sector_size=512, capacity=${mib(sectors)}, num_partitions=${parts.length}`,
    ...parts.map((p, i) => `/hd0/${i + 1}: fs=unknown, start=${mib(p.start)}, length=${mib(p.size)}`),
  ];
}

it('reads MBR primaries and the logical partitions of an extended partition', () => {
  const file = image(
    'mbr.img',
    16,
    'label: dos\nstart=2048, size=4096, type=6\nstart=6144, size=4096, type=83\n' +
      'start=10240, size=20000, type=5\nstart=12288, size=2048, type=83\nstart=16384, size=2048, type=6\n' +
      'start=20480, size=2048, type=83\n',
  );
  const expected = expectedFromSfdisk(file);
  expect(expected).toHaveLength(6);
  expect(diskAddLines(file)).toEqual(expected);
});

it('reads GPT partitions, checking the header and entry CRCs', () => {
  const file = image(
    'gpt.img',
    16,
    'label: gpt\nstart=2048, size=4096\nstart=6144, size=8192\nstart=20000, size=1000\n',
  );
  const expected = expectedFromSfdisk(file);
  expect(expected).toHaveLength(4);
  expect(diskAddLines(file)).toEqual(expected);
  // A damaged primary header (its CRC no longer matches) is not trusted; the protective MBR entry is
  // not a partition either.
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([0x42]), 0, 1, 512 + 40);
  fs.closeSync(fd);
  expect(diskAddLines(file)).toEqual([`/hd0: sector_size=512, capacity=${mib(32768)}, num_partitions=0`]);
});

it('takes a disk without a partition table as one partition', () => {
  const file = image('floppy.img', 2);
  sh('mkfs.fat', ['-F', '12', file]);
  expect(diskAddLines(file)[0]).toBe(`/hd0: sector_size=512, capacity=${mib(4096)}, num_partitions=1`);
  expect(diskAddLines(file)[1]).toMatch(
    new RegExp(`^/hd0/1: fs=\\w+, start=0 \\(0 MiB\\), length=${mib(4096).replace(/[()]/g, '\\$&')}$`),
  );
  const blank = image('blank.img', 1);
  expect(diskAddLines(blank)).toEqual([
    `/hd0: sector_size=512, capacity=${mib(2048)}, num_partitions=1`,
    `/hd0/1: fs=unknown, start=0 (0 MiB), length=${mib(2048)}`,
  ]);
});

it('ends an extended-partition chain that loops back', () => {
  const file = image(
    'loop.img',
    16,
    'label: dos\nstart=2048, size=20000, type=5\nstart=4096, size=2048, type=83\nstart=8192, size=2048, type=83\n',
  );
  const good = expectedFromSfdisk(file);
  expect(good).toHaveLength(3);
  // Walk the EBR chain as written, then point the second record's link backwards (a loop).
  const ebrs: number[] = [];
  const buf = Buffer.alloc(512);
  const fd = fs.openSync(file, 'r+');
  let at = 2048;
  for (let i = 0; i < 4 && at; i++) {
    ebrs.push(at);
    fs.readSync(fd, buf, 0, 512, at * 512);
    const next = buf.readUInt32LE(462 + 8);
    at = next ? 2048 + next : 0;
  }
  expect(ebrs.length).toBe(2);
  fs.readSync(fd, buf, 0, 512, ebrs[1] * 512);
  buf.writeUInt32LE(1, 462 + 8); // extended start + 1: behind the second record
  buf[462 + 4] = 0x05;
  fs.writeSync(fd, buf, 0, 512, ebrs[1] * 512);
  fs.closeSync(fd);
  const lines = diskAddLines(file);
  expect(lines.slice(0, 1)[0]).toMatch(/num_partitions=2$/);
  expect(lines.slice(1)).toEqual(good.slice(1));
});

it('serves the image through HostDisk sector by sector', () => {
  const file = image('raw.img', 1);
  const d = new HostDisk(file);
  expect(d.sectors).toBe(2048n);
  expect(d.write(2047n, new Uint8Array(1024).fill(7))).toBe(1);
  expect(d.read(2047n, 4)).toEqual(new Uint8Array(512).fill(7));
  expect(d.read(5000n, 1).length).toBe(0);
  d.close();
});
