import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage } from '../images';
import { buildKernel } from '../script/kernel-build';
import { HostDisk } from '../script/host-disk';
import { KernelSession } from '../script/kernel-session';

export interface FsBenchResult {
  name: string;
  fs: string;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  instructions: number;
  instructionsPerByte: number;
  mips: number;
}

const CHUNK = 1 << 20;

/**
 * `fasmcov bench fs`: the bundled kernel reads a 64 MiB file with sysfunction 70.0 in 1 MiB calls,
 * on FAT32 and on ext2 images built by the real tools; prints MB/s and kernel instructions per byte.
 * The bytes read are checked against the host file the image was built from.
 */
export function runFsBench(repo: string, log: (line: string) => void): { workloads: FsBenchResult[] } {
  const k = buildKernel(path.join(repo, 'kernel'), path.join(repo, '.cache/kernel'));
  const kernel = fs.readFileSync(k.object);
  const out: FsBenchResult[] = [];
  for (const name of ['bench-fat32', 'bench-ext2']) {
    const built = buildImage(path.join(repo, 'fixtures/images', `${name}.json`));
    const hostFile = path.join(built.partitions[0].hostTree, 'bench.bin');
    const size = fs.statSync(hostFile).size;
    const session = new KernelSession(kernel, k.object, { maxInstructions: 1e12 });
    try {
      const disk = session.addDisk('hd0', new HostDisk(built.image));
      if (!disk) throw new Error(`${built.image}: the kernel refused the disk`);
      const path80 = Buffer.from('/hd0/1/bench.bin', 'utf8');
      const hash = createHash('sha256');
      const before = session.instructions;
      const started = process.hrtime.bigint();
      for (let offset = 0; offset < size; offset += CHUNK) {
        const r = session.fileCall(80, path80, {
          subfunction: 0,
          param1: offset,
          param2: 0,
          count: CHUNK,
          bufferSize: CHUNK,
        });
        if (r.status !== 0 && !(r.status === 6 && offset + r.count === size))
          throw new Error(`${name}: read at ${offset} returned status ${r.status}, count ${r.count}`);
        hash.update(session.read(r.buffer, r.count));
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const instructions = session.instructions - before;
      const expected = createHash('sha256').update(fs.readFileSync(hostFile)).digest('hex');
      if (hash.digest('hex') !== expected) throw new Error(`${name}: the bytes read differ from ${hostFile}`);
      const fsName = session.query(disk, 1)?.fs ?? '?';
      const r: FsBenchResult = {
        name,
        fs: fsName,
        bytes: size,
        seconds,
        mbPerSecond: size / (1 << 20) / seconds,
        instructions,
        instructionsPerByte: instructions / size,
        mips: instructions / seconds / 1e6,
      };
      out.push(r);
      log(
        `${name.padEnd(12)} ${fsName.padEnd(6)} read70 ${size >> 20} MiB in 1 MiB calls: ${r.mbPerSecond.toFixed(1)} MB/s, ` +
          `${r.instructionsPerByte.toFixed(3)} kernel instructions/byte, ${r.mips.toFixed(1)} MIPS (${seconds.toFixed(2)} s)`,
      );
    } finally {
      session.close();
    }
  }
  return { workloads: out };
}
