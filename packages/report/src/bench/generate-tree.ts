import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bump when the generated sources change (names the cached build). */
export const TREE_GENERATOR_VERSION = 1;

export interface TreeShape {
  /** Procedures in the whole tree. */
  procs: number;
  /** Procedures per .inc file. */
  perFile: number;
  /** Lines of a never-assembled debug block per procedure (preprocessed, stored in the .fas). */
  deadLines: number;
}

export const DEFAULT_TREE: TreeShape = { procs: 5000, perFile: 40, deadLines: 45 };

const FOLDERS = ['fs', 'core', 'blkdev', 'net', 'video', 'sound', 'bus/usb', 'bus/pci'];

/** Macros of the synthetic tree (fasmcov's own, written for this benchmark). */
const MACROS = `; Macros of the synthetic benchmark tree.
macro proc name {
name:
        push    ebp
        mov     ebp, esp
}
macro leave_ret bytes {
        leave
        ret     bytes
}
macro invoke2 fn, [arg] {
 reverse
        push    arg
 common
        call    fn
}
macro check_range reg, lo, hi {
  local ..out
        cmp     reg, lo
        jb      ..out
        cmp     reg, hi
        ja      ..out
        xor     reg, reg
..out:
}
`;

/** One procedure: loops, conditional jumps, macro invocations, and a dead debug block. */
function procText(id: number, shape: TreeShape): string[] {
  const name = `unit_${id}`;
  const callee = `unit_${(id * 7 + 3) % shape.procs}`;
  const lines = [
    `proc ${name}`,
    `        mov     eax, [ebp + 8]`,
    `        mov     ecx, [ebp + 12]`,
    `        test    eax, eax`,
    `        jz      .done`,
    `.loop:`,
    `        add     edx, [ebx + ecx * 4 + 0x${(id & 0xfff).toString(16)}]`,
    `        dec     ecx`,
    `        jnz     .loop`,
    `        cmp     eax, ${id}`,
    `        jb      .small`,
    `        invoke2 ${callee}, eax, edx`,
    `.small:`,
    `        check_range eax, ${id & 0xff}, ${(id & 0xff) + 100}`,
    `if DEBUG_LEVEL > 2`,
  ];
  for (let k = 0; k < shape.deadLines; k++)
    lines.push(`        mov     esi, [debug_configuration_${id}_${k} + edi * 4 + 0x100]`);
  lines.push('end if', `.done:`, `        leave_ret 8`, '');
  return lines;
}

/**
 * Writes a kernel-sized fasm tree under `dir`: `main.asm` including `macros.inc` and one .inc per
 * `perFile` procedures, spread over kernel-like folders. Returns the main file.
 */
export function generateTree(dir: string, shape: TreeShape = DEFAULT_TREE): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'macros.inc'), MACROS);
  const main = ['format binary', 'use32', 'org 0x100000', 'DEBUG_LEVEL = 0', "include 'macros.inc'"];
  const files = Math.ceil(shape.procs / shape.perFile);
  for (let f = 0; f < files; f++) {
    const rel = `${FOLDERS[f % FOLDERS.length]}/part_${f}.inc`;
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    const body: string[] = [`; synthetic part ${f}`];
    for (let p = f * shape.perFile; p < Math.min(shape.procs, (f + 1) * shape.perFile); p++)
      body.push(...procText(p, shape));
    fs.writeFileSync(path.join(dir, rel), `${body.join('\n')}\n`);
    main.push(`include '${rel}'`);
  }
  fs.writeFileSync(path.join(dir, 'main.asm'), `${main.join('\n')}\n`);
  return path.join(dir, 'main.asm');
}
