; Mapping fixture: a loop, a macro, calls, a branch never taken, data in the code section.
format ELF
public run
section '.text' executable

macro twice op {
  op
  op
}

run:
        push    ebx
        xor     eax, eax
        mov     ecx, 5
.loop:
        twice   inc eax
        dec     ecx
        jnz     .loop
        call    helper
        call    helper
        cmp     eax, 1000
        je      .never
        pop     ebx
        ret
.never:
        xor     eax, eax
        pop     ebx
        ret

helper:
        add     eax, 1
        ret

table   dd      1, 2, 3
