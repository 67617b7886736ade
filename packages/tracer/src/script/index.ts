export { parseScript, ScriptError, MAX_TRANSFER } from './commands';
export type { ScriptCommand, ScriptLine, FileFn } from './commands';
export { KernelSession } from './kernel-session';
export type { KernelSessionOptions, DiskQuery, FileCall, FileResult } from './kernel-session';
export { ScriptRunner } from './runner';
export type { ScriptContext } from './runner';
export { HostDisk } from './host-disk';
export { STATUS_NAMES, statusText, attrText } from './format';
export { unifiedDiff } from './unified-diff';
