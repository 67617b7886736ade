import type { PopulateOp } from './populate';

/**
 * The disk images UMKa's file-system tests read, described by how they are made: the disk, its
 * partitions, the file system and its mkfs options, and what goes into it. fasmcov's own
 * description of them (the images themselves are never stored): see test-images.ts for how each
 * kind is built and docs/KOLIBRIOS.md for what was checked.
 */
export interface UmkaImageSpec {
  name: string;
  /** Disk size in bytes. */
  size: number;
  /** Logical sector size of the disk (the partition table and mkfs see it): 512 or 4096. */
  sectorSize?: 512 | 4096;
  /**
   * The GPT's partitions as sgdisk `--new` arguments (all with --align-end); default: one
   * partition over the whole disk. 'none': the file system fills the disk (ISO images).
   */
  partitions?: string[] | 'none';
  /**
   * 'fasmcov': the disk is too large to exist as a raw file (exabytes), so gpt-writer.ts writes
   * its GPT straight into a qcow2 with 2 MiB clusters; default: sgdisk on a sparse raw file.
   */
  partitionTable?: 'sgdisk' | 'fasmcov';
  fs: UmkaFsSpec;
  populate: PopulateOp[];
  /** What the description leaves out of the original image, and why (shown in docs and errors). */
  note?: string;
}

export type UmkaFsSpec =
  /** FAT12/16 folders are written by FatFolders (no mount: needs only mkfs.fat). */
  | { type: 'fat12' | 'fat16'; mkfs: string[] }
  /** Formatted on a loop device and filled through a mount of the host kernel. */
  | {
      type: 'ext2' | 'ext4' | 'xfs' | 'exfat';
      mkfs: string[];
      /** mount -t types tried in order (exFAT: the kernel's, then FUSE's). */
      mountTypes?: string[];
      mountOptions?: string;
      /** What the host kernel must support to mount it (named in the error when it cannot). */
      needs?: string;
    }
  /** Formatted only (nothing to put in it). */
  | { type: 'xfs-empty'; mkfs: string[] }
  /** A host folder filled, then made into an ISO 9660 image by genisoimage. */
  | { type: 'iso9660'; mkisofs: string[] }
  /** A partition table only. */
  | { type: 'none' };

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** The smallest disk UMKa's XFS images use. */
const XFS_DISK = 302 * MiB;
/** The hash seed UMKa's images give ext file systems (htree order depends on it). */
export const EXT_HASH_SEED = '01234567-abcd-abcd-abcd-001122334455';
/** mkfs.xfs options every XFS image shares: quiet, no limit on the space inodes take. */
const XFS = ['-q', '-i', 'maxpct=0'];
const XFS_V4 = 'XFS v4 (crc=0) support in the host kernel (CONFIG_XFS_SUPPORT_V4)';
const ext = (type: 'ext2' | 'ext4'): string[] => [
  '-q',
  '-t',
  type,
  '-N',
  '1200000',
  '-E',
  `hash_seed=${EXT_HASH_SEED}`,
];

const dir = (path: string): PopulateOp => ({ op: 'mkdir', path });
const range = (d: string, end: number, patMin: number, patMax: number): PopulateOp[] => [
  dir(d),
  { op: 'dirRange', dir: d, begin: 0, end, patMin, patMax },
];
const ranges = (list: Array<[string, number, number, number]>): PopulateOp[] =>
  list.flatMap(([d, end, min, max]) => range(d, end, min, max));

/** A file of 4 KiB grown to `n` + 1 extents (insert a block at the start and zero it, n times). */
const manyExtents = (file: string, n: number): PopulateOp[] => [
  { op: 'fallocate', file, mode: 'allocate', offset: 0, length: 4 * KiB },
  {
    op: 'repeat',
    times: n,
    ops: [
      { op: 'fallocate', file, mode: 'insert', offset: 0, length: 4 * KiB },
      { op: 'fallocate', file, mode: 'zero', offset: 0, length: 4 * KiB },
    ],
  },
];
const pattern = (file: string, offset: number, length: number): PopulateOp => ({
  op: 'pattern',
  file,
  offset,
  length,
});
const hole = (file: string, offset: number, length: number): PopulateOp => ({
  op: 'fallocate',
  file,
  mode: 'punch',
  offset,
  length,
});

/** The folders of the XFS directory-format images: short form, block, leaf, node and B+tree. */
const xfsDirFormats = (node: number): PopulateOp[] => [
  dir('sf_empty'),
  ...ranges([
    ['sf', 3, 0, 244],
    ['block', 5, 234, 10],
    ['leaf', 40, 214, 30],
    ['node', node, 0, 23],
    ['btree_leaf', 1000, 201, 43],
    ['btree_leaf_free', 1200, 201, 43],
  ]),
];

/** Files with and without holes, and one whose extents need a B+tree. */
const xfsFiles: PopulateOp[] = [
  pattern('no_hole', 0, 65536),
  pattern('hole_begin', 0, 65536),
  hole('hole_begin', 0, 16 * KiB),
  pattern('hole_middle', 0, 65536),
  hole('hole_middle', 32 * KiB, 16 * KiB),
  pattern('hole_end', 0, 65536),
  hole('hole_end', 48 * KiB, 16 * KiB),
  ...manyExtents('btree_l1_no_hole', 2000),
  pattern('btree_l1_no_hole', 0, 8196096),
];

const xattr = (path: string): PopulateOp => ({
  op: 'xattr',
  path,
  name: 'user.pew_attr_pew',
  value: 'pew_value_pew',
});
const gptPartitions = (): string[] => {
  const p = ['0:0:+1MiB', '0:0:+1MiB', '0:4MiB:+1MiB', '0:3MiB:+1MiB'];
  while (p.length < 24) p.push('0:0:+1MiB');
  return p;
};

const specs: UmkaImageSpec[] = [
  {
    name: 'fat12_s05k.qcow2',
    size: 256 * MiB,
    fs: { type: 'fat12', mkfs: ['-F', '12'] },
    populate: ranges([
      ['dir_a', 3, 0, 1],
      ['dir_b', 10, 0, 1],
      ['dir_c', 100, 0, 1],
      ['dir_d', 1000, 0, 1],
      ['dir_e', 2000, 0, 1],
    ]),
  },
  {
    name: 'fat16_s05k.qcow2',
    size: 4 * GiB,
    fs: { type: 'fat16', mkfs: ['-F', '16'] },
    populate: ranges([
      ['dir_a', 3, 0, 1],
      ['dir_b', 10, 0, 1],
      ['dir_c', 100, 0, 1],
      ['dir_d', 1000, 0, 1],
      ['dir_e', 10000, 0, 1],
      ['dir_f', 30000, 0, 1],
    ]),
  },
  {
    name: 'ext2_s05k.qcow2',
    size: 5 * GiB,
    fs: { type: 'ext2', mkfs: ext('ext2') },
    populate: ranges([
      ['dir_a', 3, 0, 1],
      ['dir_b', 10, 0, 1],
      ['dir_c', 100, 0, 1],
      ['dir_d', 1000, 0, 1],
      ['dir_e', 10000, 0, 1],
      ['dir_f', 64998, 0, 1],
    ]),
  },
  {
    name: 'ext4_s05k.qcow2',
    size: 5 * GiB,
    fs: { type: 'ext4', mkfs: ext('ext4') },
    populate: ranges([
      ['dir_a', 3, 0, 1],
      ['dir_b', 10, 0, 1],
      ['dir_c', 100, 0, 1],
      ['dir_d', 1000, 0, 1],
      ['dir_e', 10000, 0, 1],
    ]),
    note:
      'the 100,000- and 1,000,000-folder dir_f and dir_g are left out (4 GiB of folder blocks): ' +
      'this kernel revision does not mount the ext4 (every call of the test answers unknown_fs)',
  },
  {
    name: 'gpt_partitions_s05k.qcow2',
    size: 1 * GiB,
    partitions: gptPartitions(),
    fs: { type: 'none' },
    populate: [],
  },
  {
    name: 'gpt_partitions_s4k.qcow2',
    size: 1 * GiB,
    sectorSize: 4096,
    partitions: gptPartitions(),
    fs: { type: 'none' },
    populate: [],
  },
  {
    name: 'gpt_large.qcow2',
    size: 2 ** 61,
    partitions: ['0:0:+1023MiB', '0:0:+1023GiB', '0:0:+1023TiB', '0:0:+1023PiB'],
    partitionTable: 'fasmcov',
    fs: { type: 'none' },
    populate: [],
  },
  {
    name: 'jfs.qcow2',
    size: 16 * MiB,
    fs: { type: 'none' },
    populate: [],
    note:
      'no JFS in it: mkfs.jfs refuses partitions under 16 MiB, and the 14 MiB partition of this ' +
      '16 MiB disk is one (KolibriOS has no JFS driver: the test expects an unknown file system)',
  },
  {
    name: 'xfs_borg_bit.qcow2',
    size: XFS_DISK,
    fs: { type: 'xfs-empty', mkfs: [...XFS, '-n', 'version=ci'] },
    populate: [],
  },
  {
    name: 'xfs_v5_ftype1_s05k_b2k_n8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      mkfs: [
        ...XFS,
        '-b',
        'size=2k',
        '-m',
        'crc=1,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=1',
      ],
    },
    populate: xfsDirFormats(1100),
  },
  {
    name: 'xfs_v5_files_s05k_b4k_n8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      mkfs: [
        ...XFS,
        '-b',
        'size=4k',
        '-m',
        'crc=1,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=1',
      ],
    },
    populate: xfsFiles,
  },
  {
    name: 'xfs_bigtime.qcow2',
    size: XFS_DISK,
    fs: { type: 'xfs', mkfs: [...XFS, '-m', 'bigtime=1'] },
    populate: [
      ...['dira', 'dirb', 'dirc', 'dird', 'dire', 'dirf'].map(dir),
      { op: 'touch', path: 'dira', atime: '200504031122.33', mtime: '200504031122.44' },
      { op: 'touch', path: 'dirb', atime: '199504031122.33', mtime: '203504031122.44' },
      { op: 'touch', path: 'dirc', atime: '197504031122.33', mtime: '207504031122.44' },
      { op: 'touch', path: 'dird', atime: '192504031122.33', mtime: '210504031122.44' },
      { op: 'touch', path: 'dire', atime: '190004031122.33', mtime: '220504031122.44' },
      { op: 'touch', path: 'dirf', atime: '180004031122.33', mtime: '220504031122.44' },
    ],
  },
  {
    name: 'xfs_nrext64.qcow2',
    size: 3 * GiB,
    fs: { type: 'xfs', mkfs: [...XFS, '-i', 'nrext64=1'] },
    populate: ranges([
      ['dir_sf', 3, 0, 2],
      ['dir_block', 5, 201, 43],
      ['dir_leaf', 50, 201, 43],
      ['dir_node', 1000, 201, 43],
      ['dir_btree_l1', 5000, 231, 13],
      ['dir_btree_l2', 1000000, 231, 13],
    ]),
  },
  {
    name: 'exfat_s05k_c16k_b16k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'exfat',
      mkfs: ['-L', 'KOLIBRIOS', '-c', '16k', '-b', '16k'],
      mountTypes: ['exfat', 'exfat-fuse'],
      mountOptions: 'umask=111,dmask=000',
    },
    populate: [
      dir('dir_0'),
      dir('dir_1'),
      { op: 'write', path: 'dir_1/file000', text: '' },
      ...ranges([
        ['dir_1000', 1000, 201, 43],
        ['dir_10000', 10000, 201, 43],
      ]),
    ],
  },
  {
    name: 'exfat_s05k_c8k_b8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'exfat',
      mkfs: ['-L', 'KOLIBRIOS', '-c', '8k', '-b', '8k'],
      mountTypes: ['exfat', 'exfat-fuse'],
      mountOptions: 'umask=111,dmask=000',
    },
    populate: Array.from({ length: 32 }, (_, n): PopulateOp[] => {
      const k = String(n).padStart(3, '0');
      return [dir(`dir_${k}`), { op: 'write', path: `dir_${k}/file_${k}`, text: n === 0 ? '' : 'x' }];
    }).flat(),
  },
  {
    name: 'iso9660_s2k_dir_all.qcow2',
    size: 0,
    partitions: 'none',
    fs: {
      type: 'iso9660',
      mkisofs: ['-J', '-R', '-T', '-V', 'KolibriOS', '-input-charset', 'UTF-8', '-quiet'],
    },
    populate: [
      dir('dir_ls_a'),
      ...ranges([
        ['dir_ls_b', 3, 0, 2],
        ['dir_ls_c', 5, 201, 43],
        ['dir_ls_d', 50, 201, 43],
        ['dir_ls_e', 1000, 201, 43],
        ['dir_ls_f', 5000, 231, 13],
        ['dir_ls_g', 46656, 231, 13],
      ]),
      dir('dir_stat_a'),
      ...(
        [
          ['dir_stat_b', 3],
          ['dir_stat_c', 100],
          ['dir_stat_d', 5000],
          ['dir_stat_e', 3861],
        ] as Array<[string, number]>
      ).flatMap(([d, count]): PopulateOp[] => [dir(d), { op: 'doubleDirs', dir: d, prefix: 'd', count }]),
    ],
  },
  // XFS v4 (no CRCs): built the same way, on a host kernel that still mounts v4 file systems.
  {
    name: 'xfs_v4_ftype0_s05k_b2k_n8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=2k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=0',
      ],
    },
    populate: xfsDirFormats(1100),
  },
  {
    name: 'xfs_v4_ftype1_s05k_b2k_n8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=2k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=1',
      ],
    },
    populate: xfsDirFormats(1100),
  },
  {
    name: 'xfs_v4_ftype0_s4k_b4k_n8k.qcow2',
    size: XFS_DISK,
    sectorSize: 4096,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=4k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=4k',
        '-n',
        'size=8k,ftype=0',
      ],
    },
    populate: xfsDirFormats(1100),
  },
  {
    name: 'xfs_v4_ftype0_s05k_b2k_n8k_xattr.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=2k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=0',
      ],
    },
    populate: (
      [
        ['sf', 3, 0, 244],
        ['block', 5, 234, 10],
        ['leaf', 40, 214, 30],
        ['node', 1020, 0, 23],
        ['btree_leaf', 1000, 201, 43],
        ['btree_leaf_free', 1200, 201, 43],
      ] as Array<[string, number, number, number]>
    ).reduce<PopulateOp[]>(
      (ops, [d, end, min, max]) => [
        ...ops,
        dir(d),
        xattr(d),
        { op: 'dirRange', dir: d, begin: 0, end, patMin: min, patMax: max },
      ],
      [dir('sf_empty'), xattr('sf_empty')],
    ),
  },
  {
    name: 'xfs_v4_files_s05k_b4k_n8k.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=4k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=8k,ftype=0',
      ],
    },
    populate: [
      ...xfsFiles,
      pattern('4GiB_plus', 0x120008000, 0x1000),
      pattern('4GiB_plus', 0x120000000, 0x4000),
      pattern('4GiB_plus', 0xffffe000, 0x4000),
      pattern('4GiB_plus', 0x4000, 0x4000),
    ],
  },
  {
    name: 'xfs_v4_unicode.qcow2',
    size: XFS_DISK,
    fs: { type: 'xfs', needs: XFS_V4, mkfs: [...XFS, '-m', 'crc=0,finobt=0,rmapbt=0,reflink=0'] },
    populate: [
      dir('dir0'),
      dir('дир❦/дир11'),
      dir('❦❦❦/д❦р22'),
      dir('❦👩❦/👩❦❦'),
      dir('❦👩❦/❦👩❦'),
      dir('❦👩❦/❦❦👩'),
      dir('дир3'),
      { op: 'write', path: 'dir0/file00', text: 'hello_world\n' },
      { op: 'write', path: '❦❦❦/д❦р22/❦❦', text: 'привет❦мир\n' },
      { op: 'write', path: '❦❦❦/д❦р22/💗💗', text: 'привет💗мир\n' },
      { op: 'write', path: 'дир3/файл33', text: 'привет❦💗мир\n' },
    ],
  },
  {
    name: 'xfs_v4_btrees_l2.qcow2',
    size: XFS_DISK,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=1k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-n',
        'size=4k,ftype=1',
      ],
    },
    populate: [
      ...range('dir_btree_l2', 193181, 214, 30),
      ...manyExtents('file_btree_l2', 4000),
      pattern('file_btree_l2', 0, 16388096),
    ],
  },
  {
    name: 'xfs_short_dir_i8.qcow2',
    // 42 TiB, nearly all of it never written: inode numbers above 2^32 need a disk that large.
    size: 42 * 1024 * GiB + MiB,
    fs: {
      type: 'xfs',
      needs: XFS_V4,
      mkfs: [
        ...XFS,
        '-b',
        'size=2k',
        '-m',
        'crc=0,finobt=0,rmapbt=0,reflink=0',
        '-d',
        'sectsize=512',
        '-i',
        'size=256',
        '-n',
        'size=8k,ftype=0',
      ],
    },
    populate: [
      ...range('sf', 5, 0, 244),
      { op: 'dirRange', dir: 'sf/d0000000002_xx', begin: 7, end: 10, patMin: 0, patMax: 244 },
    ],
  },
];

export const UMKA_IMAGES: Record<string, UmkaImageSpec> = Object.fromEntries(specs.map((s) => [s.name, s]));
