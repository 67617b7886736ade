; 64-bit build of the same workload body for the real CPU (which cannot run 32-bit code here):
; same init.inc / pass.inc, only the program frame and the system calls differ.
format ELF64 executable 3
entry start
segment readable executable
start:
  include 'init.inc'
  mov ebp, [passes]
pass:
  include 'pass.inc'
  dec ebp
  jnz pass
  mov eax, 1                      ; write(1, checksum, 4)
  mov edi, 1
  mov esi, checksum
  mov edx, 4
  syscall
  mov eax, 60                     ; exit(0)
  xor edi, edi
  syscall
segment readable writeable
  include 'data.inc'
