export { LinuxProcess, runLinuxExecutable, signalForVector } from './linux-process';
export type { LinuxRunOptions, LinuxRunResult } from './linux-process';
export { GuestExit, LinuxSyscalls } from './syscalls';
export type { SyscallOptions } from './syscalls';
export { FileTable, processStdio } from './files';
export type { LinuxStdio } from './files';
export { buildInitialStack } from './initial-stack';
export type { InitialStackInput } from './initial-stack';
export { ERRNO } from './errno';
