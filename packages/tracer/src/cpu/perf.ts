import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { Cpu } from './cpu';
import { Memory } from './memory';

/** Kernel-like workloads for measuring interpreter speed (million instructions per second). */
const WORKLOADS: Record<string, string> = {
  // Table-driven CRC32 over 64 KiB, 4 times (the table is built first, a shift/xor loop).
  crc32: `
    mov edi, table
    xor ecx, ecx
  mk: mov eax, ecx
    mov edx, 8
  bit: shr eax, 1
    jnc @f
    xor eax, 0xedb88320
  @@: dec edx
    jnz bit
    mov [edi+ecx*4], eax
    inc ecx
    cmp ecx, 256
    jb mk
    mov ebp, 4
  again: mov esi, buf
    mov ecx, 65536
    or eax, -1
  lp: movzx ebx, byte [esi]
    xor bl, al
    shr eax, 8
    xor eax, [table+ebx*4]
    inc esi
    dec ecx
    jnz lp
    dec ebp
    jnz again
    hlt
  align 4
  table: rd 256
  buf: rb 65536`,
  // Insertion sort of 3000 pseudo-random dwords: compares, branches, memory moves.
  sort: `
    mov edi, arr
    mov ecx, 3000
    mov eax, 12345
  fill: imul eax, eax, 1103515245
    add eax, 12345
    mov [edi], eax
    add edi, 4
    loop fill
    mov esi, 1
  outer: cmp esi, 3000
    jae done
    mov eax, [arr+esi*4]
    mov edi, esi
  inner: test edi, edi
    jz place
    mov edx, [arr+edi*4-4]
    cmp edx, eax
    jle place
    mov [arr+edi*4], edx
    dec edi
    jmp inner
  place: mov [arr+edi*4], eax
    inc esi
    jmp outer
  done: hlt
  align 4
  arr: rd 3000`,
  // rep movsd of 256 KiB, 64 times, with a little bookkeeping around it.
  repmovs: `
    mov ebp, 64
  again: mov esi, src
    mov edi, dst
    mov ecx, 65536
    rep movsd
    dec ebp
    jnz again
    hlt
  align 4
  src: rb 262144
  dst: rb 262144`,
};

export interface PerfResult {
  name: string;
  instructions: number;
  /** CPU seconds (user + system) spent in `run`. */
  seconds: number;
  mips: number;
  /** Bytes moved per second by string instructions (repmovs only). */
  bytesPerSecond?: number;
}

/** Assembles and runs each workload (best of `repeats`); returns instructions and MIPS. */
export function measureCpu(repeats = 3, names = Object.keys(WORKLOADS)): PerfResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-cpu-perf-'));
  const results: PerfResult[] = [];
  for (const name of names) {
    const src = path.join(dir, `${name}.asm`);
    fs.writeFileSync(src, `use32\norg 0x100000\n${WORKLOADS[name]}\n`);
    assemble(src, { output: `${src}.bin` });
    const image = new Uint8Array(fs.readFileSync(`${src}.bin`));
    let best: PerfResult | undefined;
    for (let r = 0; r < repeats; r++) {
      const mem = new Memory();
      mem.map(0x100000, 0x100000);
      mem.writeBytes(0x100000, image);
      const cpu = new Cpu(mem);
      cpu.eip = 0x100000;
      // CPU time of this process, not wall time: the figure should not depend on other load.
      const t0 = process.cpuUsage();
      const why = cpu.run(1e10);
      const used = process.cpuUsage(t0);
      const seconds = (used.user + used.system) / 1e6;
      if (why !== 'halt') throw new Error(`workload ${name} ended with ${why}`);
      const res: PerfResult = {
        name,
        instructions: cpu.instructionsRetired,
        seconds,
        mips: cpu.instructionsRetired / seconds / 1e6,
      };
      if (name === 'repmovs') res.bytesPerSecond = (64 * 262144) / seconds;
      if (!best || res.seconds < best.seconds) best = res;
    }
    results.push(best as PerfResult);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return results;
}

/** `fasmcov bench cpu [repeats]`: interpreter speed on the kernel-like workloads. */
export async function runCpuBench(ctx: {
  log: (line: string) => void;
  args: string[];
}): Promise<PerfResult[]> {
  const repeats = Number(ctx.args[0] ?? 5) || 5;
  const results = measureCpu(repeats);
  for (const r of results) {
    const extra = r.bytesPerSecond ? `, ${(r.bytesPerSecond / 1e6).toFixed(0)} MB/s moved` : '';
    ctx.log(
      `cpu ${r.name}: ${r.instructions} instructions in ${r.seconds.toFixed(3)} s = ${r.mips.toFixed(1)} MIPS${extra}`,
    );
  }
  return results;
}
