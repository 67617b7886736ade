; Drill-down fixture: a macro (with a nested one and a conditional jump) invoked at two places
; that run a different number of times.
format ELF
public run
section '.text' executable

macro setmax reg, limit {
  mov     reg, limit
}

macro clamp reg, limit {
  local ..ok
  cmp     reg, limit
  jbe     ..ok
  setmax  reg, limit
..ok:
}

run:
        xor     eax, eax
        mov     ecx, 10
.loop:
        inc     eax
        mov     edx, eax
        clamp   edx, 3
        test    eax, 1
        jz      .even
        clamp   edx, 2
.even:
        dec     ecx
        jnz     .loop
        ret
