// Behaviour the differential tests cannot reach (16-bit addressing, BCD, self-modifying code,
// page crossings, branch events), checked against values worked out from the Intel SDM by hand.
import { BRANCH, FLAG, Memory } from '@fasmcov/tracer';
import { CODE, DATA, load, run } from './helpers';

describe('instructions', () => {
  it('67h: 16-bit addressing for ModRM forms and rep movs with si/di/cx', () => {
    const cpu = load(
      [
        'mov esi, 0xffff0100',
        'mov edi, 0xabcd0200',
        'mov ecx, 0x12340004',
        'rep movs byte [es:di], [si]',
        'mov bx, 0x0100',
        'mov si, 2',
        'mov al, [bx+si+1]',
        'hlt',
      ].join('\n'),
    );
    cpu.memory.map(0, 0x1000);
    cpu.memory.writeBytes(0x100, new Uint8Array([1, 2, 3, 4, 5, 6]));
    expect(cpu.run(100)).toBe('halt');
    expect(Array.from(cpu.memory.readBytes(0x200, 5))).toEqual([1, 2, 3, 4, 0]);
    expect(cpu.regs[6] >>> 0).toBe(0xffff0002); // mov si keeps the upper half of esi
    expect(cpu.regs[7] >>> 0).toBe(0xabcd0204);
    expect(cpu.regs[1] >>> 0).toBe(0x12340000);
    expect(cpu.regs[0] & 0xff).toBe(4);
  });

  it('BCD adjustments (SDM examples)', () => {
    let cpu = run('mov al, 0x79\nadd al, 0x35\ndaa\nhlt');
    expect(cpu.regs[0] & 0xff).toBe(0x14);
    expect(cpu.getEflags() & FLAG.CF).toBe(FLAG.CF);
    cpu = run('mov al, 0x35\nsub al, 0x47\ndas\nhlt');
    expect(cpu.regs[0] & 0xff).toBe(0x88);
    expect(cpu.getEflags() & FLAG.CF).toBe(FLAG.CF);
    cpu = run('mov ax, 0x0009\nadd al, 8\naaa\nhlt');
    expect(cpu.regs[0] & 0xffff).toBe(0x0107);
    cpu = run('mov ax, 0x0102\nsub al, 5\naas\nhlt');
    expect(cpu.regs[0] & 0xffff).toBe(0x0007);
    cpu = run('mov al, 63\naam\nhlt');
    expect(cpu.regs[0] & 0xffff).toBe(0x0603);
    cpu = run('mov ax, 0x0603\naad\nhlt');
    expect(cpu.regs[0] & 0xffff).toBe(63);
  });

  it('self-modifying code: a write to an already executed instruction takes effect', () => {
    const cpu = run(
      [
        'mov ecx, 3',
        'again: mov eax, 1',
        'imm = again + 1',
        'add ebx, eax',
        'mov dword [imm], 100',
        'loop again',
        'hlt',
      ].join('\n'),
    );
    expect(cpu.regs[3]).toBe(1 + 100 + 100);
  });

  it('host writes (writeBytes) also invalidate decoded code', () => {
    const cpu = load('l: mov eax, 1\nhlt');
    expect(cpu.run(10)).toBe('halt');
    cpu.memory.writeBytes(CODE + 1, new Uint8Array([7, 0, 0, 0]));
    cpu.eip = CODE;
    expect(cpu.run(10)).toBe('halt');
    expect(cpu.regs[0]).toBe(7);
  });

  it('page-crossing data accesses and an instruction straddling two pages', () => {
    const m = new Memory();
    m.map(0x1000, 0x2000);
    m.write32(0x1ffe, 0x11223344);
    expect(m.read8(0x1ffe)).toBe(0x44);
    expect(m.read8(0x2001)).toBe(0x11);
    expect(m.read32(0x1ffe)).toBe(0x11223344);
    expect(m.read16(0x1fff)).toBe(0x2233);
    m.write16(0x1fff, 0xabcd);
    expect(m.read32(0x1ffe) >>> 0).toBe(0x11abcd44);
    expect(() => m.write32(0x2ffe, 0)).toThrow(/writing 0x00003000/);
    expect(m.read8(0x2ffe)).toBe(0); // nothing written on a faulting page-crossing store
    const cpu = load('times 4093 nop\nmov eax, 0x12345678\nhlt');
    expect(cpu.run(5000)).toBe('halt');
    expect(cpu.regs[0]).toBe(0x12345678);
  });

  it('rep movsd longer than one step chunk, with DF both ways', () => {
    const n = 10000;
    const cpu = load(
      `mov esi, ${DATA}\nmov edi, ${DATA + 0x8000}\nmov ecx, ${n / 4}\nrep movsd\nstd\nmov esi, ${DATA + 3}\nmov edi, ${DATA + 0xf000}\nmov ecx, 4\nrep movsb\ncld\nhlt`,
    );
    const src = new Uint8Array(n).map((_, k) => (k * 7) & 0xff);
    cpu.memory.writeBytes(DATA, src);
    expect(cpu.run(100)).toBe('halt');
    expect(Buffer.from(cpu.memory.readBytes(DATA + 0x8000, n)).equals(Buffer.from(src))).toBe(true);
    expect(Array.from(cpu.memory.readBytes(DATA + 0xf000 - 3, 4))).toEqual([0, 7, 14, 21]);
  });

  it('reports branches to the branch hook with their kinds', () => {
    const cpu = load(
      [
        'xor eax, eax', // 0x1000 (2 bytes)
        'jz t1', // 0x1002 taken
        'nop',
        't1: jnz t1', // 0x1005 not taken
        'call f', // 0x1007
        'mov ecx, 1', // 0x100c
        'l: loop l', // 0x1011 not taken (ecx becomes 0)
        'mov ebx, g',
        'jmp ebx',
        'f: ret',
        'g: hlt',
      ].join('\n'),
    );
    const ev: Array<[number, number, number]> = [];
    cpu.branchHook = (a, b, k) => ev.push([a, b, k]);
    expect(cpu.run(100)).toBe('halt');
    expect(ev.map((e) => e[2])).toEqual([
      BRANCH.COND_TAKEN,
      BRANCH.COND_NOT_TAKEN,
      BRANCH.CALL,
      BRANCH.RET,
      BRANCH.COND_NOT_TAKEN,
      BRANCH.JMP_INDIRECT,
    ]);
    expect(ev[0]).toEqual([CODE + 2, CODE + 5, BRANCH.COND_TAKEN]);
    expect(ev[3][1]).toBe(CODE + 0x0c);
  });

  it('flags survive call/ret and a materialise in pushfd; iret restores eip and eflags', () => {
    const cpu = run(
      [
        'mov eax, -1',
        'add eax, 1', // CF=1 ZF=1 PF=1 AF=1
        'call f',
        'pushfd',
        'pop ebx',
        'pushfd', // iret frame: eflags, cs, eip
        'push 8',
        'push back',
        'clc',
        'iretd',
        'back: hlt',
        'f: ret',
      ].join('\n'),
    );
    expect(cpu.regs[3] & 0xfff).toBe(0x57); // CF PF AF ZF + bit 1, IF clear
    expect(cpu.getEflags() & FLAG.CF).toBe(FLAG.CF);
  });

  it('lahf/sahf, setcc on ah..bh, segment loads accepted, xlat', () => {
    const cpu = run(
      [
        'mov ax, 0x10',
        'mov ds, ax',
        'push ds',
        'pop ecx',
        'stc',
        'lahf',
        'mov bh, ah',
        'xor ah, ah',
        'mov ah, 0xd5',
        'sahf',
        'setc dh',
        'sets dl',
        `mov ebx, ${DATA}`,
        'mov al, 2',
        'mov byte [ebx+2], 0x5a',
        'xlatb',
        'hlt',
      ].join('\n'),
    );
    expect(cpu.regs[1]).toBe(0x10);
    expect(cpu.regs[2] & 0xffff).toBe(0x0101);
    expect(cpu.regs[0] & 0xff).toBe(0x5a);
    expect(cpu.getEflags() & 0xd5).toBe(0xd5);
  });
});
