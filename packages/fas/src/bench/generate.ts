/**
 * Synthetic fasm source shaped like the KolibriOS kernel for the `.fas` reader benchmark: many
 * procedures made of plain instructions and macro invocations (with `local` labels), data, and
 * conditional blocks that are preprocessed but not assembled. A unit gives 53
 * preprocessed lines, 19 dump rows and ~3.8 KB of `.fas`: 9,200 units (35 MB, 488k lines, 175k
 * rows) are close to the real kernel's ~35 MB, ~500,000 lines and ~145,000 rows.
 */
export function generateSource(units: number): string {
  const out: string[] = [
    'format binary',
    'use32',
    'org 0x10000',
    'macro stdcall_like proc_name, [arg] {',
    ' common',
    '  local .after',
    ' reverse',
    '        push    arg',
    ' common',
    '        call    proc_name',
    '.after:',
    '}',
    'macro spin_lock_irqsave_like lock_variable_name {',
    '        pushfd',
    '        cli',
    '        mov     dword [lock_variable_name], 1',
    '}',
  ];
  for (let i = 0; i < units; i++) {
    const p = `kernel_procedure_number_${i}`;
    out.push(
      `${p}:`,
      `        mov     eax, [kernel_variable_for_unit_${i}]`,
      `        mov     ebx, dword [eax + 0x1000 * 4 + 0x12]`,
      `.check_loop_${i}:`,
      `        cmp     ecx, 0x${(i * 7919).toString(16)}`,
      `        jne     .check_loop_${i}`,
      `        stdcall_like ${p}, eax, ebx, ecx, 0x${i.toString(16)}`,
      `        spin_lock_irqsave_like kernel_variable_for_unit_${i}`,
      `        xor     eax, eax`,
      `        ret`,
      `if DEFINED_NEVER_${i % 16} eq 1`,
    );
    for (let k = 0; k < 20; k++) {
      out.push(
        `        mov     esi, [some_unused_configuration_variable_${i}_${k} + edi * 4 + 0x100] ; dead code`,
      );
    }
    out.push('end if', `kernel_variable_for_unit_${i} dd 0x${i.toString(16)}, ${p}`, '');
  }
  return `${out.join('\n')}\n`;
}
