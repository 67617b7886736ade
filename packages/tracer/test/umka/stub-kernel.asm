; A stand-in for umka.o with the same entry points and ABI, for testing fasmcov's UMKa session and
; shell without a KolibriOS checkout. One disk at a time, one partition from sector 2048 to 2048
; sectors before the end; every folder holds a, bb (hidden) and ccc (folder); reads return the
; first 16 bytes of the disk; stat of a path whose second character is 'm' finds nothing.

format ELF

public umka_init
public umka_boot
public disk_add
public disk_media_changed
public disk_del
public disk_list
public i40_asm
public kos_time_to_epoch
public fat_user_functions

DISK_NEXT = 0
DISK_PREV = 4
DISK_FUNCTIONS = 8
DISK_NAME = 12
DISK_USERDATA = 16
DISK_MEDIA = 48
DISK_NUM_PARTITIONS = 68
DISK_PARTITIONS = 72
FN_CLOSE = 4
FN_QUERYMEDIA = 12
FN_READ = 16

section '.text' executable align 16

umka_init:
        mov     eax, [esp+4]
        mov     [ctx_running], eax
        mov     [ctx_booted], 0
        mov     eax, ctx_booted
        ret

umka_boot:
        mov     [ctx_booted], 1
        mov     word [cur_folder], '/'
        ret

disk_add:                               ; stdcall (functions, name, userdata, flags)
        push    ebx
        mov     ebx, the_disk
        xor     eax, eax
        cmp     [ebx+DISK_NEXT], eax
        jnz     .done
        mov     eax, [esp+8]
        mov     [ebx+DISK_FUNCTIONS], eax
        mov     eax, [esp+12]
        mov     [ebx+DISK_NAME], eax
        mov     eax, [esp+16]
        mov     [ebx+DISK_USERDATA], eax
        lea     eax, [ebx+DISK_MEDIA]
        push    eax
        push    dword [ebx+DISK_USERDATA]
        mov     eax, [ebx+DISK_FUNCTIONS]
        call    dword [eax+FN_QUERYMEDIA]
        mov     dword [ebx+DISK_NUM_PARTITIONS], 1
        mov     dword [ebx+DISK_PARTITIONS], partition_list
        mov     eax, [ebx+DISK_MEDIA+8]
        sub     eax, 4096
        mov     [the_partition+8], eax
        mov     dword [the_partition], 2048
        mov     dword [ebx+DISK_NEXT], disk_list
        mov     dword [ebx+DISK_PREV], disk_list
        mov     [disk_list], ebx
        mov     [disk_list+4], ebx
        mov     eax, ebx
.done:
        pop     ebx
        ret     16

disk_media_changed:
        ret     8

disk_del:                               ; stdcall (disk)
        push    ebx
        mov     ebx, [esp+8]
        push    dword [ebx+DISK_USERDATA]
        mov     eax, [ebx+DISK_FUNCTIONS]
        call    dword [eax+FN_CLOSE]
        mov     dword [ebx+DISK_NEXT], 0
        mov     dword [disk_list], disk_list
        mov     dword [disk_list+4], disk_list
        pop     ebx
        ret     4

kos_time_to_epoch:                      ; cdecl (pointer to time, date): the time dword
        mov     eax, [esp+4]
        mov     eax, [eax]
        xor     edx, edx
        ret

i40_asm:                                ; cdecl (eax, ebx, ecx, edx, esi, edi, ebp, *eax, *ebx)
        push    ebx esi edi ebp
        mov     eax, [esp+20]
        mov     ebx, [esp+24]
        mov     ecx, [esp+28]
        mov     edx, [esp+32]
        call    i40
        mov     edi, [esp+48]
        mov     [edi], eax
        mov     edi, [esp+52]
        mov     [edi], ebx
        pop     ebp edi esi ebx
        ret

i40:
        cmp     eax, 30
        je      sys_cwd
        cmp     eax, 70
        je      sys_file
        cmp     eax, 80
        je      sys_file
        or      eax, -1
        ret

sys_cwd:
        cmp     ebx, 1
        jne     .get
        mov     esi, ecx
        mov     edi, cur_folder
        jmp     copy_string
.get:
        mov     esi, cur_folder
        mov     edi, ecx
copy_string:
        lodsb
        stosb
        test    al, al
        jnz     copy_string
        ret

sys_file:                               ; ebx = the argument block; esi = the path
        mov     esi, [ebx+21]
        cmp     eax, 70
        je      @f
        mov     esi, [ebx+24]
@@:
        mov     eax, [ebx]
        cmp     eax, 0
        je      file_read
        cmp     eax, 1
        je      file_list
        cmp     eax, 5
        je      file_stat
        mov     eax, 2
        ret

file_stat:
        mov     eax, 5
        cmp     byte [esi+1], 'm'
        je      .done
        mov     edi, [ebx+16]
        mov     dword [edi], 1                  ; read-only file
        mov     dword [edi+8], 0x00020304       ; ctime 02:03:04
        mov     dword [edi+32], 1234
        mov     dword [edi+36], 0
        xor     eax, eax
.done:
        ret

file_read:                              ; up to 16 bytes of sector 0
        push    ebx
        mov     ecx, [ebx+12]
        mov     edi, [ebx+16]
        push    ecx edi
        mov     dword [read_count], 1
        push    read_count
        push    0 0
        push    sector
        push    dword [the_disk+DISK_USERDATA]
        mov     eax, dword [the_disk+DISK_FUNCTIONS]
        call    dword [eax+FN_READ]
        pop     edi ecx
        xor     eax, eax
        cmp     ecx, 16
        jbe     @f
        mov     ecx, 16
        mov     eax, 6
@@:
        mov     ebx, ecx
        mov     esi, sector
        rep movsb
        pop     ecx
        ret

file_list:                              ; entries [ebx+4] .. of a, bb, ccc
        push    ebp
        mov     edi, [ebx+16]
        mov     ecx, [ebx+4]
        mov     edx, 3
        sub     edx, ecx
        jae     @f
        xor     edx, edx
@@:
        cmp     edx, [ebx+12]
        jbe     @f
        mov     edx, [ebx+12]
@@:
        mov     dword [edi], 1
        mov     [edi+4], edx
        mov     dword [edi+8], 3
        mov     ebp, 560
        cmp     dword [ebx+8], 1
        jne     @f
        mov     ebp, 304
@@:
        lea     esi, [edi+32]
        push    edx
.entry:
        test    edx, edx
        jz      .end
        mov     eax, [entry_attrs+4*ecx]
        mov     [esi], eax
        mov     eax, [ebx+8]
        mov     [esi+4], eax
        mov     eax, dword [entry_names+4*ecx]
        mov     [esi+40], eax
        add     esi, ebp
        inc     ecx
        dec     edx
        jmp     .entry
.end:
        pop     ebx
        xor     eax, eax
        cmp     ecx, 3
        jb      @f
        mov     eax, 6
@@:
        pop     ebp
        ret

section '.data' writeable align 16

ctx_booted      dd 0
ctx_running     dd 0
fat_user_functions dd 0
disk_list       dd disk_list, disk_list
the_disk        rb 128
the_partition   dd 0, 0, 0, 0, 0, fat_user_functions
partition_list  dd the_partition
entry_attrs     dd 0, 0x02, 0x10
entry_names     db 'a', 0, 0, 0, 'bb', 0, 0, 'ccc', 0
read_count      dd 0
cur_folder             rb 256
sector          rb 512
