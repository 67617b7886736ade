import type { Memory } from '../cpu';

const AT_NULL = 0;
const AT_PHDR = 3;
const AT_PAGESZ = 6;
const AT_ENTRY = 9;
const AT_UID = 11;
const AT_EUID = 12;
const AT_GID = 13;
const AT_EGID = 14;
const AT_RANDOM = 25;

export interface InitialStackInput {
  argv: string[];
  env: string[];
  entry: number;
  /** Address of the program headers in memory (AT_PHDR), when known. */
  phdr?: number;
}

/**
 * Builds the process stack the way Linux i386 does: strings at the top, then (16-byte aligned)
 * argc, argv[], NULL, envp[], NULL, auxv pairs ending with AT_NULL. AT_RANDOM points at 16 fixed
 * bytes (deterministic runs). Returns the initial esp (pointing at argc).
 */
export function buildInitialStack(memory: Memory, top: number, input: InitialStackInput): number {
  let sp = top;
  const putString = (s: string): number => {
    const bytes = Buffer.from(`${s}\0`, 'utf8');
    sp -= bytes.length;
    memory.writeBytes(sp, bytes);
    return sp;
  };
  const argvPtrs = input.argv.map(putString);
  const envPtrs = input.env.map(putString);
  sp -= 16;
  sp &= ~15;
  const random = sp;
  memory.writeBytes(
    random,
    Uint8Array.from({ length: 16 }, (_, i) => (i * 0x3b + 0x11) & 0xff),
  );
  const auxv: number[] = [AT_PAGESZ, 4096, AT_ENTRY, input.entry, AT_RANDOM, random];
  auxv.push(AT_UID, 1000, AT_EUID, 1000, AT_GID, 1000, AT_EGID, 1000);
  if (input.phdr !== undefined) auxv.push(AT_PHDR, input.phdr);
  auxv.push(AT_NULL, 0);
  const words = [input.argv.length, ...argvPtrs, 0, ...envPtrs, 0, ...auxv];
  sp -= words.length * 4;
  sp &= ~15;
  words.forEach((w, i) => memory.write32(sp + 4 * i, w));
  return sp >>> 0;
}
