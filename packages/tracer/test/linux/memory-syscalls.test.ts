import { Cpu, ERRNO, FileTable, LinuxSyscalls, Memory } from '@fasmcov/tracer';
import { CapturedStdio } from './build-fixture';

// i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl) and mmap flags (asm-generic/mman-common.h).
const BRK = 45;
const MMAP_OLD = 90;
const MUNMAP = 91;
const MMAP2 = 192;
const MAP_PRIVATE_ANON = 0x22;
const MAP_FIXED = 0x10;

function setup() {
  const memory = new Memory();
  const cpu = new Cpu(memory);
  const sys = new LinuxSyscalls(cpu, new FileTable(new CapturedStdio(), process.cwd()), {
    brkStart: 0x01000000,
    mmapTop: 0x40000000,
    time: 0,
    pid: 1000,
  });
  // ebx, ecx, edx, esi, edi, ebp carry the arguments.
  const call = (nr: number, ...args: number[]): number => {
    cpu.regs[0] = nr;
    [3, 1, 2, 6, 7, 5].forEach((r, i) => (cpu.regs[r] = args[i] ?? 0));
    sys.syscall();
    return cpu.regs[0];
  };
  return { memory, call };
}

describe('brk, mmap, munmap', () => {
  test('brk grows and shrinks in pages, refuses to go below its start', () => {
    const { memory, call } = setup();
    expect(call(BRK, 0)).toBe(0x01000000);
    expect(call(BRK, 0x01002800)).toBe(0x01002800);
    memory.write8(0x01002fff, 1);
    expect(memory.isMapped(0x01003000)).toBe(false);
    expect(call(BRK, 0x01000100)).toBe(0x01000100);
    expect(memory.isMapped(0x01000fff)).toBe(true);
    expect(memory.isMapped(0x01001000)).toBe(false);
    expect(call(BRK, 0x00fff000)).toBe(0x01000100);
    expect(call(BRK, 0x50000000)).toBe(0x01000100);
  });

  test('anonymous mappings: top-down, zeroed, protection, MAP_FIXED replaces, old mmap', () => {
    const { memory, call } = setup();
    const a = call(MMAP2, 0, 5000, 3, MAP_PRIVATE_ANON, -1, 0) >>> 0;
    expect(a).toBe(0x40000000 - 0x2000);
    memory.write32(a + 0x1ffc, -1);
    const ro = call(MMAP2, 0, 4096, 1, MAP_PRIVATE_ANON, -1, 0) >>> 0;
    expect(ro).toBe(a - 0x1000);
    expect(memory.isWritable(ro)).toBe(false);
    expect(call(MMAP2, a, 4096 * 2, 3, MAP_PRIVATE_ANON | MAP_FIXED, -1, 0) >>> 0).toBe(a);
    expect(memory.read32(a + 0x1ffc)).toBe(0);
    // Old mmap takes a pointer to its six arguments.
    [0, 4096, 3, MAP_PRIVATE_ANON, -1, 0].forEach((v, i) => memory.write32(a + 4 * i, v));
    expect(call(MMAP_OLD, a) >>> 0).toBe(ro - 0x1000);
    expect(call(MUNMAP, a, 8192)).toBe(0);
    expect(memory.isMapped(a)).toBe(false);
  });

  test('errors: file mappings, zero length, misalignment, exhaustion', () => {
    const { call } = setup();
    expect(call(MMAP2, 0, 4096, 3, 2, 3, 0)).toBe(-ERRNO.ENODEV);
    expect(call(MMAP2, 0, 0, 3, MAP_PRIVATE_ANON, -1, 0)).toBe(-ERRNO.EINVAL);
    expect(call(MMAP2, 0x1234, 4096, 3, MAP_PRIVATE_ANON | MAP_FIXED, -1, 0)).toBe(-ERRNO.EINVAL);
    expect(call(MMAP2, 0, 0x3f800000, 3, MAP_PRIVATE_ANON, -1, 0)).toBe(-ERRNO.ENOMEM);
    expect(call(MUNMAP, 0x1001, 4096)).toBe(-ERRNO.EINVAL);
    expect(call(MMAP_OLD, 0x10)).toBe(-ERRNO.EFAULT);
  });
});
