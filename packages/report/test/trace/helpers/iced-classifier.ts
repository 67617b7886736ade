// Test stand-in for the emulator's classifyInstruction, built on iced-x86 (an independent
// decoder). Host calls (0F FF + 16-bit id) are 4 bytes and not branches, as in the emulator.
import { Decoder, FlowControl, Mnemonic } from 'iced-x86';
import { BRANCH } from '@fasmcov/tracer';
import type { BranchInfo } from '@fasmcov/report';

const KIND: Partial<Record<FlowControl, number>> = {
  [FlowControl.UnconditionalBranch]: BRANCH.JMP,
  [FlowControl.IndirectBranch]: BRANCH.JMP_INDIRECT,
  [FlowControl.ConditionalBranch]: BRANCH.COND_TAKEN,
  [FlowControl.Return]: BRANCH.RET,
  [FlowControl.Call]: BRANCH.CALL,
  [FlowControl.IndirectCall]: BRANCH.CALL_INDIRECT,
  [FlowControl.Interrupt]: BRANCH.INT,
};

export function icedClassify(read8: (addr: number) => number, address: number): BranchInfo {
  const bytes: number[] = [];
  for (let i = 0; i < 15; i++) {
    try {
      bytes.push(read8(address + i));
    } catch (e) {
      if (i === 0) throw e;
      break;
    }
  }
  if (bytes[0] === 0x0f && bytes[1] === 0xff)
    return { length: 4, kind: 0, conditional: false, mnemonic: 'hostcall' };
  const d = new Decoder(32, new Uint8Array(bytes), 0);
  d.ip = BigInt(address);
  const ins = d.decode();
  try {
    if (ins.mnemonic === Mnemonic.INVALID) throw new Error(`undecodable bytes at 0x${address.toString(16)}`);
    const mnemonic = Mnemonic[ins.mnemonic].toLowerCase();
    let kind = KIND[ins.flowControl] ?? 0;
    if (mnemonic.startsWith('iret')) kind = BRANCH.IRET;
    const info: BranchInfo = {
      length: ins.length,
      kind,
      conditional: ins.flowControl === FlowControl.ConditionalBranch,
      mnemonic,
    };
    if (kind === BRANCH.JMP || kind === BRANCH.CALL || info.conditional)
      info.target = Number(ins.nearBranchTarget);
    return info;
  } finally {
    ins.free();
    d.free();
  }
}
