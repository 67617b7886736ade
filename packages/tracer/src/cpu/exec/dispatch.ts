import type { Handler, Insn } from '../decode/insn';
import * as alu from './alu';
import * as bcd from './bcd';
import * as bit from './bit';
import * as ctl from './control';
import { fastHandler } from './fast';
import * as misc from './misc';
import * as mmx from './mmx';
import * as md from './muldiv';
import * as sh from './shift';
import * as stack from './stack';
import * as str from './string';

/** Dense dispatch: handlers[map << 8 | opcode]; group opcodes pick groups[op][reg]. */
const handlers: Handler[] = [];
const groups: Array<Handler[] | undefined> = [];

function hex(op: number): string {
  return (op > 0xff ? '0f ' : '') + (op & 0xff).toString(16).padStart(2, '0');
}
for (let op = 0; op < 512; op++) handlers[op] = misc.ud(`opcode ${hex(op)}`);

function set(op: number, h: Handler): void {
  handlers[op] = h;
}
function group(op: number, hs: Handler[]): void {
  groups[op] = hs;
}

// ---- one-byte map ----
for (let b = 0; b < 0x40; b += 8) for (let f = 0; f < 6; f++) set(b + f, alu.aluHandler(b + f));
set(0x06, misc.pushSeg);
set(0x07, misc.popSeg);
set(0x0e, misc.pushSeg);
set(0x16, misc.pushSeg);
set(0x17, misc.popSeg);
set(0x1e, misc.pushSeg);
set(0x1f, misc.popSeg);
set(0x27, bcd.daa(false));
set(0x2f, bcd.daa(true));
set(0x37, bcd.aaa(false));
set(0x3f, bcd.aaa(true));
for (let r = 0; r < 8; r++) {
  set(0x40 + r, alu.incReg);
  set(0x48 + r, alu.decReg);
  set(0x50 + r, stack.pushReg);
  set(0x58 + r, stack.popReg);
  set(0xb0 + r, misc.movRegImm8);
  set(0xb8 + r, misc.movRegImm);
  if (r) set(0x90 + r, misc.xchgAcc);
}
set(0x60, stack.pushad);
set(0x61, stack.popad);
set(0x68, stack.pushImm(false));
set(0x69, md.imulG(2));
set(0x6a, stack.pushImm(true));
set(0x6b, md.imulG(1));
for (const op of [0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef])
  set(op, misc.privileged('in/out/ins/outs'));
for (let cc = 0; cc < 16; cc++) {
  set(0x70 + cc, ctl.jccShort);
  set(0x140 + cc, misc.cmov);
  set(0x180 + cc, ctl.jccNear);
  set(0x190 + cc, misc.setcc);
}
for (const op of [0x80, 0x81, 0x82, 0x83])
  group(
    op,
    [0, 1, 2, 3, 4, 5, 6, 7].map((k) => alu.grp1Handler(op, k)),
  );
set(0x84, alu.testE(true, false));
set(0x85, alu.testE(false, false));
set(0x86, misc.xchgEG(true));
set(0x87, misc.xchgEG(false));
set(0x88, misc.movEG(true));
set(0x89, misc.movEG(false));
set(0x8a, misc.movGE(true));
set(0x8b, misc.movGE(false));
set(0x8c, misc.movSregStore);
set(0x8d, misc.lea);
set(0x8e, misc.movSregLoad);
group(0x8f, [stack.popE, ...Array<Handler>(7).fill(misc.ud('8f /1-7'))]);
set(0x90, misc.nop);
set(0x98, misc.cbw);
set(0x99, misc.cwd);
set(0x9a, misc.privileged('call far'));
set(0x9b, misc.nop);
set(0x9c, stack.pushf);
set(0x9d, stack.popf);
set(0x9e, misc.sahf);
set(0x9f, misc.lahf);
set(0xa0, misc.movMoffs(false, true));
set(0xa1, misc.movMoffs(false, false));
set(0xa2, misc.movMoffs(true, true));
set(0xa3, misc.movMoffs(true, false));
set(0xa4, str.movs(true));
set(0xa5, str.movs(false));
set(0xa6, str.cmps(true));
set(0xa7, str.cmps(false));
set(0xa8, alu.testAcc(true));
set(0xa9, alu.testAcc(false));
set(0xaa, str.stos(true));
set(0xab, str.stos(false));
set(0xac, str.lods(true));
set(0xad, str.lods(false));
set(0xae, str.scas(true));
set(0xaf, str.scas(false));
for (const op of [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3])
  group(
    op,
    [0, 1, 2, 3, 4, 5, 6, 7].map((k) => sh.grp2Handler(op, k)),
  );
set(0xc2, ctl.retImm);
set(0xc3, ctl.ret);
set(0xc4, misc.privileged('les'));
set(0xc5, misc.privileged('lds'));
set(0xc6, misc.movEImm(true));
set(0xc7, misc.movEImm(false));
set(0xc8, stack.enter);
set(0xc9, stack.leave);
set(0xca, misc.privileged('retf'));
set(0xcb, misc.privileged('retf'));
set(0xcc, ctl.int3);
set(0xcd, ctl.intN);
set(0xce, ctl.into);
set(0xcf, ctl.iret);
set(0xd4, bcd.aam);
set(0xd5, bcd.aad);
set(0xd6, misc.salc);
set(0xd7, misc.xlat);
for (let op = 0xd8; op <= 0xdf; op++) set(op, misc.ud('x87 floating-point instruction (not emulated)'));
for (let op = 0xe0; op <= 0xe3; op++) set(op, ctl.loop);
set(0xe8, ctl.callNear);
set(0xe9, ctl.jmpNear);
set(0xea, misc.privileged('jmp far'));
set(0xeb, ctl.jmpShort);
set(0xf1, ctl.int1);
set(0xf4, ctl.hlt);
set(0xf5, misc.cmc);
group(0xf6, [
  alu.testE(true, true),
  alu.testE(true, true),
  alu.notE(true),
  alu.negE(true),
  md.mulE(true, false),
  md.mulE(true, true),
  md.divE(true, false),
  md.divE(true, true),
]);
group(0xf7, [
  alu.testE(false, true),
  alu.testE(false, true),
  alu.notE(false),
  alu.negE(false),
  md.mulE(false, false),
  md.mulE(false, true),
  md.divE(false, false),
  md.divE(false, true),
]);
set(0xf8, misc.clc);
set(0xf9, misc.stc);
set(0xfa, ctl.cli);
set(0xfb, ctl.sti);
set(0xfc, misc.cld);
set(0xfd, misc.std);
const udFe = misc.ud('fe /2-7');
group(0xfe, [alu.incDecE(true, false), alu.incDecE(true, true), udFe, udFe, udFe, udFe, udFe, udFe]);
group(0xff, [
  alu.incDecE(false, false),
  alu.incDecE(false, true),
  ctl.callE,
  misc.privileged('call far indirect'),
  ctl.jmpE,
  misc.privileged('jmp far indirect'),
  stack.pushE,
  misc.ud('ff /7'),
]);

// ---- 0F map ----
set(0x100, misc.privileged('sldt/str/lldt/ltr/verr/verw'));
set(0x101, misc.privileged('sgdt/sidt/lgdt/lidt/smsw/lmsw/invlpg'));
set(0x106, misc.privileged('clts'));
set(0x108, misc.privileged('invd'));
set(0x109, misc.privileged('wbinvd'));
set(0x10b, misc.ud('ud2'));
set(0x10d, misc.nop);
for (let op = 0x118; op <= 0x11f; op++) set(op, misc.nop);
set(0x120, misc.privileged('mov from control register'));
set(0x121, misc.privileged('mov from debug register'));
set(0x122, misc.privileged('mov to control register'));
set(0x123, misc.privileged('mov to debug register'));
set(0x130, misc.privileged('wrmsr'));
set(0x131, misc.rdtsc);
set(0x132, misc.privileged('rdmsr'));
set(0x1a0, misc.pushSeg);
set(0x1a1, misc.popSeg);
set(0x1a2, misc.cpuid);
set(0x1a3, bit.btHandler(0, false));
set(0x1a4, sh.shldHandler(true, false));
set(0x1a5, sh.shldHandler(true, true));
set(0x1a8, misc.pushSeg);
set(0x1a9, misc.popSeg);
set(0x1ab, bit.btHandler(1, false));
set(0x1ac, sh.shldHandler(false, false));
set(0x1ad, sh.shldHandler(false, true));
set(0x1af, md.imulG(0));
set(0x1b0, misc.cmpxchg(true));
set(0x1b1, misc.cmpxchg(false));
set(0x1b2, misc.privileged('lss'));
set(0x1b3, bit.btHandler(2, false));
set(0x1b4, misc.privileged('lfs'));
set(0x1b5, misc.privileged('lgs'));
set(0x1b6, misc.movx(1, false));
set(0x1b7, misc.movx(2, false));
const udBa = misc.ud('0f ba /0-3');
group(
  0x1ba,
  [udBa, udBa, udBa, udBa, 0, 1, 2, 3].map((k) => (typeof k === 'number' ? bit.btHandler(k, true) : k)),
);
set(0x1bb, bit.btHandler(3, false));
set(0x1bc, bit.bsfHandler(true));
set(0x1bd, bit.bsfHandler(false));
set(0x1be, misc.movx(1, true));
set(0x1bf, misc.movx(2, true));
set(0x1c0, misc.xadd(true));
set(0x1c1, misc.xadd(false));
set(0x1c7, misc.grp9);
for (let r = 0; r < 8; r++) set(0x1c8 + r, bit.bswap);
set(0x1ff, misc.hostCall);
mmx.register(set, group);

/** Opcodes that accept a lock prefix (with a memory destination); groups list the allowed reg values. */
const LOCKABLE = new Set([0x86, 0x87, 0x1b0, 0x1b1, 0x1c0, 0x1c1, 0x1ab, 0x1b3, 0x1bb]);
for (let b = 0; b < 0x38; b += 8) LOCKABLE.add(b).add(b + 1);
const LOCKABLE_GROUP: Record<number, number[]> = {
  0x80: [0, 1, 2, 3, 4, 5, 6],
  0x81: [0, 1, 2, 3, 4, 5, 6],
  0x82: [0, 1, 2, 3, 4, 5, 6],
  0x83: [0, 1, 2, 3, 4, 5, 6],
  0xf6: [2, 3],
  0xf7: [2, 3],
  0xfe: [0, 1],
  0xff: [0, 1],
  0x1ba: [5, 6, 7],
  0x1c7: [1],
};
const badLock = misc.ud('lock prefix on an instruction that cannot be locked');

/** The handler for a decoded instruction. */
export function lookupHandler(i: Insn): Handler {
  if (i.lock && (i.mod3 || !(LOCKABLE.has(i.op) || LOCKABLE_GROUP[i.op]?.includes(i.reg)))) return badLock;
  const f = fastHandler(i);
  if (f) return f;
  const g = groups[i.op];
  return g ? g[i.reg] : handlers[i.op];
}
