; fasmcov's bundled kernel: a small KolibriOS-shaped kernel (block devices, FAT, ext2, sysfunction 70)
; assembled as an ELF object and driven by the tracer's script runner.
format ELF

include 'macros.inc'
include 'const.inc'

public kernel_init
public kernel_alloc
public kernel_free
public disk_add
public disk_del
public disk_media_changed
public disk_query
public kos_fn70
public kos_fn80
public kos_set_cwd
public kos_get_cwd

extrn host_log
extrn host_time

section '.text' executable

include 'core/string.inc'
include 'core/heap.inc'
include 'core/mutex.inc'
include 'core/crc.inc'
include 'core/log.inc'
include 'blkdev/disk.inc'
include 'blkdev/partition.inc'
include 'fs/fs_lfn.inc'
include 'fs/fat.inc'
include 'fs/ext2.inc'

section '.data' writeable
IncludeIGlobals

section '.bss' writeable
IncludeUGlobals
