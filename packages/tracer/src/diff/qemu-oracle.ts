import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import { Cpu } from '../cpu/cpu';
import { GuestFault } from '../cpu/fault';
import { Memory } from '../cpu/memory';
import { Prng } from './prng';

/**
 * SECONDARY oracle: qemu-i386 (an emulator itself, weaker evidence than silicon) running a 32-bit
 * Linux ELF, for what 64-bit mode cannot host: push/pop, pushad/popad, pushfd/popfd, call/ret,
 * enter/leave. The program dumps registers, flags and its stack area through int 0x80 write.
 */

const STACK_BYTES = 512;
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'ebp'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'si', 'di', 'bp'];

export function qemuAvailable(): boolean {
  const r = spawnSync('qemu-i386', ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** A random stack-heavy body; `k` makes labels unique. */
export function stackBody(rng: Prng, k: number, length: number): string[] {
  const out: string[] = [];
  const v = (): string =>
    '0x' + (rng.chance(0.3) ? rng.pick([0, 0xffffffff, 0x80000000, 0x7f]) : rng.u32()).toString(16);
  const slot = (): string => `[stk+${4 * rng.int(STACK_BYTES / 4 - 2)}]`;
  for (let n = 0; n < length; n++) {
    switch (rng.int(12)) {
      case 0:
        out.push(`push ${rng.pick(R32)}`, `pop ${rng.pick(R32)}`);
        break;
      case 1:
        if (rng.chance(0.3)) out.push(`push word 0x${rng.int(0x10000).toString(16)}`, `pop ${rng.pick(R16)}`);
        else out.push(`push dword ${rng.chance(0.5) ? rng.int(256) - 128 : v()}`, `pop ${rng.pick(R32)}`);
        break;
      case 2:
        out.push(`push dword ${slot()}`, `pop dword ${slot()}`);
        break;
      case 3:
        out.push('pushad', `mov ${rng.pick(R32)}, ${v()}`, 'popad');
        break;
      case 4:
        out.push('pushad', `add dword [esp+${4 * rng.int(8)}], ${v()}`, 'popad');
        break;
      case 5:
        out.push(`push ${rng.pick(R16)}`, `pop word ${slot()}`);
        break;
      case 6:
        out.push(
          `push ${v()}`,
          `and dword [esp], 0x8d5`,
          'or dword [esp], 0x202',
          'popfd',
          'pushfd',
          `pop ${rng.pick(R32)}`,
        );
        break;
      case 7:
        out.push(
          `call sub${k}_${n}`,
          `jmp over${k}_${n}`,
          `sub${k}_${n}:`,
          `add eax, [esp]`,
          `mov ebx, esp`,
          'ret',
          `over${k}_${n}:`,
        );
        break;
      case 8:
        out.push(
          `push ${v()}`,
          `call sub${k}_${n}`,
          `jmp over${k}_${n}`,
          `sub${k}_${n}:`,
          `mov ecx, [esp+4]`,
          'ret 4',
          `over${k}_${n}:`,
        );
        break;
      case 9:
        // Nested enter copies frame pointers from [ebp-4*k]: keep ebp inside the stack area.
        out.push(
          `mov ebp, stk+${128 + 4 * rng.int(32)}`,
          `enter ${rng.int(64)}, ${rng.int(4)}`,
          `mov [ebp-4], ${rng.pick(R32.slice(0, 6))}`,
          'leave',
        );
        break;
      case 10:
        out.push(`push ${rng.pick(R32)}`, `pop dword [esp-${rng.int(4) * 4}]`.replace('[esp-0]', '[esp]'));
        break;
      default:
        out.push(
          `xchg ${rng.pick(R32)}, [esp-4]`.replace('[esp-4]', 'dword [stk+8]'),
          `push esp`,
          `pop ${rng.pick(R32.slice(0, 6))}`,
        );
    }
  }
  return out;
}

/** The 32-bit Linux program: for each case, set state, run the body, write the results. */
export function elfSource(bodies: string[][], inits: number[][]): string {
  const out = ['format ELF executable 3', 'entry start', 'segment readable writeable executable', 'start:'];
  bodies.forEach((b, k) => {
    out.push('cld', 'mov edi, stk', `mov ecx, ${STACK_BYTES / 4}`, 'mov eax, 0x5a5a5a5a', 'rep stosd');
    out.push('mov esp, stk_top');
    R32.forEach((r, j) => out.push(`mov ${r}, 0x${(inits[k][j] >>> 0).toString(16)}`));
    out.push(...b);
    out.push(
      'mov [res], eax',
      'mov [res+4], ecx',
      'mov [res+8], edx',
      'mov [res+12], ebx',
      'mov [res+16], esp',
    );
    out.push(
      'mov [res+20], ebp',
      'mov [res+24], esi',
      'mov [res+28], edi',
      'pushfd',
      'pop eax',
      'mov [res+32], eax',
    );
    out.push('mov eax, 4', 'mov ebx, 1', 'mov ecx, res', `mov edx, ${36 + STACK_BYTES}`, 'int 0x80');
  });
  out.push('mov eax, 1', 'xor ebx, ebx', 'int 0x80');
  out.push('align 16', 'res: rd 9', `stk: rb ${STACK_BYTES}`, 'stk_top:', 'rb 64');
  return out.join('\n') + '\n';
}

/** Loads an ELF32 executable's PT_LOAD segments and runs it, handling write/exit via int 0x80. */
export function runElfEmulated(elf: Uint8Array): Uint8Array {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const mem = new Memory();
  const phoff = dv.getUint32(28, true);
  const phnum = dv.getUint16(44, true);
  for (let k = 0; k < phnum; k++) {
    const ph = phoff + 32 * k;
    if (dv.getUint32(ph, true) !== 1) continue;
    const off = dv.getUint32(ph + 4, true);
    const vaddr = dv.getUint32(ph + 8, true);
    const filesz = dv.getUint32(ph + 16, true);
    const memsz = dv.getUint32(ph + 20, true);
    mem.map(vaddr, memsz);
    mem.writeBytes(vaddr, elf.subarray(off, off + filesz));
  }
  const cpu = new Cpu(mem);
  cpu.eip = dv.getUint32(24, true);
  cpu.setEflags(0x202); // user mode under Linux: IF set (pushfd images include it)
  const chunks: Uint8Array[] = [];
  cpu.interruptHook = (v) => {
    if (v !== 0x80) throw new GuestFault(v, cpu.curEip, undefined, `int ${v}`);
    if (cpu.regs[0] === 4) chunks.push(mem.readBytes(cpu.regs[1], cpu.regs[2]));
    else if (cpu.regs[0] === 1) cpu.stop();
  };
  cpu.run(50_000_000);
  return Buffer.concat(chunks);
}

export interface QemuResult {
  cases: number;
  /** Descriptions of differing cases (empty when all match). */
  mismatches: string[];
}

/** Runs `count` random stack cases under qemu-i386 and the emulator and compares the dumps. */
export function runQemuBatch(seed: number, count: number, workDir: string): QemuResult {
  const rng = new Prng(seed);
  const bodies: string[][] = [];
  const inits: number[][] = [];
  for (let k = 0; k < count; k++) {
    inits.push(R32.map(() => rng.u32()));
    bodies.push(stackBody(rng, k, 1 + rng.int(6)));
  }
  fs.mkdirSync(workDir, { recursive: true });
  const base = path.join(workDir, `stack-${seed}`);
  fs.writeFileSync(`${base}.asm`, elfSource(bodies, inits));
  assemble(`${base}.asm`, { output: base });
  fs.chmodSync(base, 0o755);
  const q = spawnSync('qemu-i386', [base], { maxBuffer: 64 << 20 });
  if (q.error) throw q.error;
  const native = new Uint8Array(q.stdout);
  const emulated = runElfEmulated(new Uint8Array(fs.readFileSync(base)));
  const size = 36 + STACK_BYTES;
  const mismatches: string[] = [];
  if (native.length !== size * count)
    throw new Error(`qemu-i386 wrote ${native.length} bytes, expected ${size * count}`);
  for (let k = 0; k < count; k++) {
    const a = native.subarray(k * size, (k + 1) * size);
    const b = emulated.subarray(k * size, (k + 1) * size);
    // Flags: compare CF PF AF ZF SF OF DF only.
    const fa = new DataView(a.buffer, a.byteOffset).getUint32(32, true) & 0xcd5;
    const fb = b.length === size ? new DataView(b.buffer, b.byteOffset).getUint32(32, true) & 0xcd5 : -1;
    let differs = fa !== fb || b.length !== size;
    for (let j = 0; j < size && !differs; j++) if (j < 32 || j >= 36) differs = a[j] !== b[j];
    if (differs) mismatches.push(`seed ${seed} case ${k} (${base}.asm):\n    ${bodies[k].join('\n    ')}`);
  }
  if (mismatches.length === 0) for (const f of [`${base}.asm`, base]) fs.rmSync(f, { force: true });
  return { cases: count, mismatches };
}
