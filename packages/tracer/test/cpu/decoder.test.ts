// Decoder lengths, displacements and branch classification checked against iced-x86 (an
// independent decoder) on random encodings with prefix combinations and every ModRM/SIB form.
import { Decoder, DecoderOptions, FlowControl } from 'iced-x86';
import { BRANCH, classifyInstruction } from '@fasmcov/tracer';
import { decodeInto } from '../../src/cpu/decode/decoder';
import { EA, Insn } from '../../src/cpu/decode/insn';
import { Prng } from '../../src/diff/prng';

const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36];

/** One-byte opcodes whose encoding the emulator must size correctly (all but prefixes/0F). */
function oneByteOps(): number[] {
  const ops: number[] = [];
  for (let op = 0; op < 256; op++) {
    if (PREFIXES.includes(op) || op === 0x0f || op === 0xf0 || op === 0xd6 || op === 0xf1) continue;
    ops.push(op);
  }
  return ops;
}
/** 0F-map opcodes the emulator implements (without 66/F2/F3 these are the integer/MMX forms). */
function twoByteOps(): number[] {
  const ranges = [
    [0x00, 0x01],
    [0x0b, 0x0b],
    [0x1f, 0x1f],
    [0x31, 0x31],
    [0x40, 0x4f],
    [0x60, 0x6b],
    [0x6e, 0x6f],
    [0x71, 0x77],
    [0x7e, 0x7f],
    [0x80, 0x8f],
    [0x90, 0x9f],
    [0xa2, 0xa5],
    [0xab, 0xad],
    [0xaf, 0xb1],
    [0xb3, 0xb3],
    [0xb6, 0xb7],
    [0xba, 0xbf],
    [0xc0, 0xc1],
    [0xc7, 0xcf],
    [0xd1, 0xd5],
    [0xd8, 0xfe],
  ];
  const ops: number[] = [];
  for (const [lo, hi] of ranges) for (let op = lo; op <= hi; op++) ops.push(op);
  return ops;
}

function randomInstruction(rng: Prng, twoByte: boolean): Uint8Array {
  const bytes: number[] = [];
  const nPrefix = rng.int(4);
  for (let k = 0; k < nPrefix; k++) {
    const p = rng.pick(PREFIXES);
    // 66/F2/F3 turn 0F-map MMX opcodes into SSE ones with other lengths: not for the 0F map.
    if (twoByte && (p === 0x66 || p === 0xf2 || p === 0xf3)) continue;
    bytes.push(p);
  }
  if (twoByte) bytes.push(0x0f, rng.pick(twoByteOps()));
  else bytes.push(rng.pick(oneByteOps()));
  while (bytes.length < 16)
    bytes.push(rng.chance(0.2) ? rng.pick([0x00, 0x04, 0x05, 0x24, 0x25, 0x44, 0x84, 0xff]) : rng.int(256));
  return new Uint8Array(bytes);
}

function ours(bytes: Uint8Array, addr: number): Insn {
  return decodeInto((a) => bytes[a - addr] ?? 0, addr, new Insn());
}

describe('decoder vs iced-x86', () => {
  it('agrees on the length of 40,000 random one-byte and 0F-map encodings', () => {
    const rng = new Prng(20240601);
    let compared = 0;
    for (let n = 0; n < 40000; n++) {
      const bytes = randomInstruction(rng, n % 3 === 0);
      const ice = new Decoder(32, bytes, DecoderOptions.None);
      ice.ip = 0x401000n;
      const ins = ice.decode();
      if (ins.isInvalid) continue;
      const mine = ours(bytes, 0x401000);
      const hexs = Buffer.from(bytes.subarray(0, ins.length)).toString('hex');
      if (mine.len !== ins.length) throw new Error(`length of ${hexs}: ours ${mine.len}, iced ${ins.length}`);
      compared++;
    }
    expect(compared).toBeGreaterThan(30000);
  });

  it('agrees on displacement and base/index/scale of memory operands', () => {
    const rng = new Prng(77);
    const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
    let compared = 0;
    for (let n = 0; n < 10000; n++) {
      // mov eax, [modrm...] with optional 67h: every mod/rm/SIB combination appears.
      const a16 = rng.chance(0.25);
      const bytes = new Uint8Array(16).map(() => rng.int(256));
      let k = 0;
      if (a16) bytes[k++] = 0x67;
      bytes[k++] = 0x8b;
      if (bytes[k] >> 6 === 3) bytes[k] &= 0x3f;
      const ice = new Decoder(32, bytes, DecoderOptions.None);
      const ins = ice.decode();
      const mine = ours(bytes, 0);
      expect(mine.len).toBe(ins.length);
      const disp = Number(ins.memoryDisplacement);
      if (a16) expect(mine.disp & 0xffff).toBe(disp & 0xffff);
      else expect(mine.disp >>> 0).toBe(disp >>> 0);
      if (!a16) {
        const base = ins.memoryBase === 0 ? -1 : names.indexOf(regName(ins.memoryBase));
        const index = ins.memoryIndex === 0 ? -1 : names.indexOf(regName(ins.memoryIndex));
        const hasBase = mine.eaKind === EA.BASE || mine.eaKind === EA.BASE_INDEX;
        const hasIndex = mine.eaKind === EA.BASE_INDEX || mine.eaKind === EA.INDEX;
        expect(hasBase ? mine.base : -1).toBe(base);
        expect(hasIndex ? mine.index : -1).toBe(index);
        if (hasIndex) expect(1 << mine.shift).toBe(ins.memoryIndexScale);
      }
      compared++;
    }
    expect(compared).toBe(10000);
  });

  it('classifies branches like iced-x86 (kind, conditional, target)', () => {
    const rng = new Prng(5);
    const branchOps = [
      0x70, 0x75, 0x7f, 0xe0, 0xe1, 0xe2, 0xe3, 0xe8, 0xe9, 0xeb, 0xc2, 0xc3, 0xcc, 0xcd, 0xcf, 0xff,
    ];
    for (let n = 0; n < 5000; n++) {
      const bytes = new Uint8Array(16).map(() => rng.int(256));
      let k = 0;
      if (rng.chance(0.5)) {
        bytes[k++] = 0x0f;
        bytes[k++] = 0x80 + rng.int(16);
      } else bytes[k++] = rng.pick(branchOps);
      const ice = new Decoder(32, bytes, DecoderOptions.None);
      ice.ip = 0x401000n;
      const ins = ice.decode();
      if (ins.isInvalid) continue;
      const info = classifyInstruction((a) => bytes[a - 0x401000], 0x401000);
      expect(info.length).toBe(ins.length);
      const expected: Record<number, number> = {
        [FlowControl.Next]: 0,
        [FlowControl.ConditionalBranch]: BRANCH.COND_TAKEN,
        [FlowControl.UnconditionalBranch]: BRANCH.JMP,
        [FlowControl.IndirectBranch]: BRANCH.JMP_INDIRECT,
        [FlowControl.Call]: BRANCH.CALL,
        [FlowControl.IndirectCall]: BRANCH.CALL_INDIRECT,
        [FlowControl.Return]: BRANCH.RET,
        [FlowControl.Interrupt]: BRANCH.INT,
      };
      const want = bytes[0] === 0xcf ? BRANCH.IRET : expected[ins.flowControl];
      // Far forms (ff /3, ff /5) are #GP in the emulator; iced calls them indirect branches too.
      if (bytes[0] === 0xff && [3, 5].includes((bytes[1] >> 3) & 7)) continue;
      if (want === undefined) continue;
      expect({ bytes: Buffer.from(bytes.subarray(0, ins.length)).toString('hex'), kind: info.kind }).toEqual({
        bytes: Buffer.from(bytes.subarray(0, ins.length)).toString('hex'),
        kind: want,
      });
      if (ins.flowControl === FlowControl.ConditionalBranch) expect(info.conditional).toBe(true);
      if (info.target !== undefined) expect(info.target).toBe(Number(ins.nearBranchTarget));
    }
  });

  it('throws #UD for undecodable bytes and decodes the host call as 4 bytes', () => {
    expect(() => classifyInstruction((a) => [0x0f, 0x38, 0x00, 0xc0][a] ?? 0, 0)).toThrow(/#UD/);
    expect(ours(new Uint8Array([0x0f, 0xff, 0x34, 0x12, 0x90]), 0).len).toBe(4);
    expect(ours(new Uint8Array([0x0f, 0xff, 0x34, 0x12, 0x90]), 0).imm).toBe(0x1234);
  });
});

function regName(r: number): string {
  // iced Register enum: EAX..EDI are consecutive; resolve by probing a known instruction.
  return REG32[r] ?? '?';
}
const REG32: Record<number, string> = {};
{
  const probe = (modrm: number): number =>
    new Decoder(32, new Uint8Array([0x8b, modrm]), DecoderOptions.None).decode().memoryBase;
  ['eax', 'ecx', 'edx', 'ebx'].forEach((n, k) => (REG32[probe(k)] = n));
  REG32[probe(6)] = 'esi';
  REG32[probe(7)] = 'edi';
  REG32[new Decoder(32, new Uint8Array([0x8b, 0x45, 0]), DecoderOptions.None).decode().memoryBase] = 'ebp';
  REG32[new Decoder(32, new Uint8Array([0x8b, 0x04, 0x24]), DecoderOptions.None).decode().memoryBase] = 'esp';
}
