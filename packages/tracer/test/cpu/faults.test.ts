import { BRANCH, GuestFault, Memory, VECTOR } from '@fasmcov/tracer';
import { CODE, DATA, STACK_BOTTOM, load } from './helpers';

function fault(body: string): GuestFault {
  const cpu = load(body);
  try {
    cpu.run(1000);
  } catch (e) {
    expect(e).toBeInstanceOf(GuestFault);
    return e as GuestFault;
  }
  throw new Error('no fault');
}

describe('faults', () => {
  it('#DE on division by zero, idiv overflow and aam 0, at the faulting eip', () => {
    const f = fault('xor ecx, ecx\nmov eax, 5\nf: div ecx\nhlt');
    expect(f.vector).toBe(VECTOR.DE);
    expect(f.eip).toBe(CODE + 2 + 5);
    expect(fault('mov eax, 0x80000000\ncdq\nmov ecx, -1\nidiv ecx').vector).toBe(VECTOR.DE);
    expect(fault('mov ax, 0x100\nmov cl, 1\ndiv cl').vector).toBe(VECTOR.DE);
    expect(fault('db 0xd4, 0').vector).toBe(VECTOR.DE);
  });

  it('#UD on ud2, an unknown opcode, x87, and a host call without a handler', () => {
    expect(fault('ud2').vector).toBe(VECTOR.UD);
    expect(fault('db 0x0f, 0x38, 0, 0xc0').vector).toBe(VECTOR.UD);
    expect(fault('fninit').message).toMatch(/x87/);
    const f = fault('nop\ndb 0x0f, 0xff, 0x34, 0x12');
    expect(f.vector).toBe(VECTOR.UD);
    expect(f.eip).toBe(CODE + 1);
  });

  it('#GP naming the privileged instruction', () => {
    expect(fault('mov eax, cr0').message).toMatch(/#GP.*control register/);
    expect(fault('in al, 0x60').message).toMatch(/in\/out/);
    expect(fault('lgdt [0]').message).toMatch(/lgdt/);
    expect(fault('wrmsr').message).toMatch(/wrmsr/);
    expect(fault('wrmsr').vector).toBe(VECTOR.GP);
  });

  it('#PF reading, writing, fetching unmapped memory and writing a read-only page', () => {
    let f = fault('mov eax, [0x12345678]');
    expect(f.vector).toBe(VECTOR.PF);
    expect(f.address).toBe(0x12345678);
    expect(f.message).toBe('page fault (#PF) reading 0x12345678 at eip 0x00001000');
    f = fault(`mov dword [${DATA + 0x10000 - 2}], eax`);
    expect(f.address).toBe(DATA + 0x10000);
    expect(f.message).toMatch(/writing/);
    f = fault('jmp 0x700000');
    expect(f.address).toBe(0x700000);
    expect(f.eip).toBe(0x700000);
    const cpu = load('mov byte [0x1000], 0');
    cpu.memory.map(0x1000, 0x1000, { writable: false });
    expect(() => cpu.run(10)).toThrow(/writing 0x00001000/);
  });

  it('stack overflow into the unmapped guard page is a #PF and leaves esp unchanged', () => {
    const cpu = load('l: push eax\njmp l');
    let caught: GuestFault | undefined;
    try {
      cpu.run(1_000_000);
    } catch (e) {
      caught = e as GuestFault;
    }
    expect(caught?.vector).toBe(VECTOR.PF);
    expect(caught?.address).toBe(STACK_BOTTOM - 4);
    expect(cpu.regs[4]).toBe(STACK_BOTTOM);
    expect(cpu.eip).toBe(CODE);
  });

  it('int3 / int n without a hook fault with their vector; the hook receives them', () => {
    expect(fault('int3').vector).toBe(3);
    expect(fault('int 0x80').vector).toBe(0x80);
    const cpu = load('int 0x80\nint3\nhlt');
    const seen: number[] = [];
    cpu.interruptHook = (v) => seen.push(v);
    expect(cpu.run(10)).toBe('halt');
    expect(seen).toEqual([0x80, 3]);
  });

  it('reports a fault to the branch hook', () => {
    const cpu = load('ud2');
    const events: number[][] = [];
    cpu.branchHook = (a, b, k) => events.push([a, b, k]);
    expect(() => cpu.run(5)).toThrow(GuestFault);
    expect(events).toEqual([[CODE, CODE, BRANCH.FAULT]]);
  });

  it('host-side accesses to unmapped memory throw GuestFault too', () => {
    const m = new Memory();
    expect(() => m.read32(0x5000)).toThrow(GuestFault);
    expect(() => m.writeBytes(0x5000, new Uint8Array(1))).toThrow(/page fault/);
  });
});

describe('run control', () => {
  it("an endless loop ends with 'budget' after exactly the budget", () => {
    const cpu = load('l: inc eax\njmp l');
    expect(cpu.run(1001)).toBe('budget');
    expect(cpu.instructionsRetired).toBe(1001);
    expect(cpu.regs[0]).toBe(501);
    expect(cpu.run(1)).toBe('budget');
    expect(cpu.instructionsRetired).toBe(1002);
  });

  it("host calls run the hook, continue after the 4-byte instruction, and stop() gives 'stop'", () => {
    const cpu = load('db 0x0f, 0xff, 0x07, 0x00\nmov ebx, 1\ndb 0x0f, 0xff, 0x09, 0x00\nmov ebx, 2\nhlt');
    const ids: number[] = [];
    cpu.hostCall = (id) => {
      ids.push(id);
      if (id === 9) cpu.stop();
    };
    expect(cpu.run(100)).toBe('stop');
    expect(ids).toEqual([7, 9]);
    expect(cpu.regs[3]).toBe(1);
    expect(cpu.eip).toBe(CODE + 4 + 5 + 4);
    expect(cpu.run(100)).toBe('halt');
    expect(cpu.regs[3]).toBe(2);
  });

  it('rdtsc counts instructions retired and cpuid is fixed', () => {
    const cpu = load('nop\nnop\nrdtsc\nmov esi, eax\nxor eax, eax\ncpuid\nhlt');
    expect(cpu.run(100)).toBe('halt');
    expect(cpu.regs[6]).toBe(2);
    const vendor = Buffer.alloc(12);
    vendor.writeInt32LE(cpu.regs[3], 0);
    vendor.writeInt32LE(cpu.regs[2], 4);
    vendor.writeInt32LE(cpu.regs[1], 8);
    expect(vendor.toString('latin1')).toBe('FasmcovIA-32');
  });
});

describe('lock prefix', () => {
  it('is accepted on locked read-modify-write forms and #UD elsewhere', () => {
    const cpu = load(`mov dword [${DATA}], 5\nlock add dword [${DATA}], 2\nlock xadd [${DATA}], eax\nhlt`);
    expect(cpu.run(10)).toBe('halt');
    expect(cpu.memory.read32(DATA)).toBe(7);
    expect(fault('db 0xf0\nmov eax, ebx').message).toMatch(/lock/);
    expect(fault('db 0xf0, 0x01, 0xd8').vector).toBe(VECTOR.UD); // lock add eax, ebx
  });
});

describe('Memory', () => {
  it('maps page-granular zero-filled ranges, unmaps them, and keeps contents when re-protected', () => {
    const m = new Memory();
    m.map(0x10010, 0x10);
    expect(m.isMapped(0x10000)).toBe(true);
    expect(m.isMapped(0x10fff)).toBe(true);
    expect(m.isMapped(0x11000)).toBe(false);
    expect(m.read32(0x10ffc)).toBe(0);
    m.write32(0x10000, -2);
    expect(m.read32(0x10000)).toBe(-2);
    expect(m.read16(0x10002)).toBe(0xffff);
    m.map(0x10000, 1, { writable: false });
    expect(m.read32(0x10000)).toBe(-2);
    expect(() => m.write8(0x10000, 1)).toThrow(/writing 0x00010000 in a host access/);
    m.writeBytes(0x10000, new Uint8Array([9])); // host writes may fill read-only pages
    expect(m.read8(0x10000)).toBe(9);
    m.unmap(0x10000, 0x1000);
    expect(m.isMapped(0x10000)).toBe(false);
    expect(() => m.read8(0x10000)).toThrow(GuestFault);
    m.map(0x10000, 0x1000);
    expect(m.read8(0x10000)).toBe(0);
  });
});
