; 32-bit build of a benchmark workload, run by the emulator: REPEAT passes, then writes the
; checksum (4 bytes) to stdout and exits. Assemble with -d WORKLOAD=n; the pass count is patched into `passes`.
format ELF executable 3
entry start
segment readable executable
start:
  include 'init.inc'
  mov ebp, [passes]
pass:
  include 'pass.inc'
  dec ebp
  jnz pass
  mov eax, 4
  mov ebx, 1
  mov ecx, checksum
  mov edx, 4
  int 0x80
  mov eax, 1
  xor ebx, ebx
  int 0x80
segment readable writeable
  include 'data.inc'
