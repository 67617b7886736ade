import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assemble } from '@fasmcov/fas';
import {
  BudgetExhaustedError,
  GuestFault,
  GuestMachine,
  HostCallError,
  LoaderError,
  type LoadedImage,
} from '@fasmcov/tracer';
import { fixturesDir } from '../linux/build-fixture';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-host-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const objPath = path.join(tmp, 'library.o');
assemble(path.join(fixturesDir, 'library.asm'), { output: objPath });
const obj = fs.readFileSync(objPath);

function setup() {
  const m = new GuestMachine();
  const calls: number[][] = [];
  m.bind('host_mul', {
    args: 2,
    fn: (c) => {
      calls.push([c.arg(0), c.arg(1)]);
      return Math.imul(c.argSigned(0), c.argSigned(1));
    },
  });
  m.bind('host_add64', { args: 4, convention: 'stdcall', fn: (c) => c.arg64(0) + c.arg64(2) });
  m.bind('host_reenter', {
    args: 1,
    fn: (c) => {
      const x = c.arg(0);
      if (x === 0) return m.callGuest('fault_here');
      if (x === 1) return m.callGuest('spin', [], { maxInstructions: 500 });
      return x > 100 ? m.callGuest('nested', [x - 100]) : m.callGuest('square', [x]);
    },
  });
  const image: LoadedImage = m.loadObject(obj, objPath);
  return { m, calls, image };
}

describe('host-call ABI', () => {
  test('guest → host calls, cdecl and stdcall, 32 and 64-bit results', () => {
    const { m, calls } = setup();
    expect(m.callGuest('square', [7])).toBe(49);
    expect(m.memory.read32(m.symbol('counter')!)).toBe(1);
    expect(m.callGuest('sub_stdcall', [10, 3], { convention: 'stdcall' })).toBe(7);
    expect(m.callGuest('sum_via_host', [6, -7, 5])).toBe(-37 >>> 0);
    expect(calls).toEqual([[6, 0xfffffff9]]);
    expect(m.callGuest64('wide_via_host', [0xffffffff, 1, 1, 2])).toBe(0x4_0000_0000n);
    expect(m.callGuest64('wide_via_host', [0xffffffffffffffffn, 2n])).toBe(1n);
  });

  test('stubs: 0F FF id16 then ret / ret 16, in a read-only trampoline page', () => {
    const { m } = setup();
    const stub = m.host.resolve('host_add64')!;
    const id = m.memory.read16(stub + 2);
    expect([...m.memory.readBytes(stub, 7)]).toEqual([0x0f, 0xff, id & 0xff, id >> 8, 0xc2, 16, 0]);
    const cdecl = m.host.resolve('host_mul')!;
    expect(m.memory.read8(cdecl + 4)).toBe(0xc3);
    expect(() => m.memory.write8(stub, 0x90)).toThrow(GuestFault);
    expect(() => m.bind('host_mul', { args: 0, fn: () => 0 })).toThrow(HostCallError);
  });

  test('re-entrant guest → host → guest calls, nested three deep, registers restored', () => {
    const { m } = setup();
    m.cpu.regs[3] = 0x1234;
    const before = Int32Array.from(m.cpu.regs);
    const eip = m.cpu.eip;
    expect(m.callGuest('nested', [9])).toBe(82);
    expect(m.callGuest('nested', [309])).toBe(85);
    expect(Array.from(m.cpu.regs)).toEqual(Array.from(before));
    expect(m.cpu.eip).toBe(eip);
  });

  test('a wrong convention is caught as a stack imbalance', () => {
    const { m } = setup();
    expect(() => m.callGuest('sub_stdcall', [10, 3])).toThrow(/stack imbalance after cdecl call/);
    expect(() => m.callGuest('square', [3], { convention: 'stdcall' })).toThrow(/stack imbalance/);
  });

  test('faults and budget exhaustion propagate from any depth, state restored', () => {
    const { m } = setup();
    const sp = m.cpu.regs[4];
    const at = m.symbol('fault_here')! + 5; // after `mov eax, [table+4]` (A1 + disp32)
    expect(() => m.callGuest('fault_here')).toThrow(
      expect.objectContaining({ vector: 14, address: 0, eip: at }),
    );
    expect(() => m.callGuest('nested', [0])).toThrow(expect.objectContaining({ vector: 14, eip: at }));
    expect(() => m.callGuest('nested', [1])).toThrow(BudgetExhaustedError);
    expect(() => m.callGuest('spin', [], { maxInstructions: 10_000 })).toThrow(BudgetExhaustedError);
    expect(m.cpu.regs[4]).toBe(sp);
    expect(m.callGuest('nested', [102])).toBe(6); // still usable afterwards
  });

  test('unknown symbols, unbound extrns and the stack guard page', () => {
    const { m } = setup();
    expect(() => m.callGuest('no_such_function')).toThrow(/no guest symbol 'no_such_function'/);
    const bare = new GuestMachine();
    expect(() => bare.loadObject(obj, objPath)).toThrow(LoaderError);
    expect(m.memory.isMapped(m.stackTop - 1)).toBe(true);
    expect(m.memory.isMapped(m.stackBottom)).toBe(true);
    expect(m.memory.isMapped(m.stackBottom - 1)).toBe(false);
    expect(m.symbolize(m.symbol('square')! + 3)).toBe('square+0x3');
  });
});
