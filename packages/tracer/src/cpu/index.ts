export { REG, BRANCH, FLAG, VECTOR } from './constants';
export { Memory } from './memory';
export { Cpu } from './cpu';
export type { StopReason } from './cpu';
export { GuestFault } from './fault';
export { classifyInstruction } from './classify';
export type { InstructionInfo } from './classify';
