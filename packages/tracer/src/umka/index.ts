export { linkUmkaObject, UMKA_SECTION_ALIGN } from './link';
export type { UmkaLinkOptions } from './link';
export { UmkaMachine, UmkaCallError, UMKA_EXTERNS, UMKA_BASE } from './umka-machine';
export { UmkaSession, DEFAULT_UMKA_LAYOUT, UMKA_LAYOUT_SYMBOLS, layoutFromSymbols } from './umka-session';
export type { UmkaLayout, DiskInfo, PartitionInfo, LfnResult, UmkaSessionOptions } from './umka-session';
export { UmkaShell, UMKA_SHELL_COMMANDS, unservedCommands } from './umka-shell';
export type { UmkaShellOptions, UmkaShellCommand } from './umka-shell';
export {
  statusName,
  statusLine,
  attrLetters,
  exactUnits,
  hexLines,
  localTimeText,
  lastDir,
  parseCNumber,
} from './shell-format';
export { VirtualDisk, formatOf, sectorSizeOf } from './vdisk';
export { Qcow2Image, Qcow2Error, readQcow2Header, QCOW2_MAGIC } from './qcow2';
export type { Qcow2Header } from './qcow2';
export { writeQcow2 } from './qcow2-writer';
export { FatFolders } from './fat-folders';
export {
  UMKA_IMAGES,
  makeUmkaImage,
  folderName,
  EXT_HASH_SEED,
  imageUnbuildable,
  UmkaImageError,
} from './test-images';
export type { UmkaImageSpec, UmkaFsSpec } from './test-images';
export { populate, positionPattern, rangeDirName, doubleDirName, PopulateError } from './populate';
export type { PopulateOp } from './populate';
export { LoopSession, LoopError, loopMountUnavailable } from './loop-device';
export { runUmkaScript, UmkaRunError, umkaTestName } from './run-umka';
export type { RunUmkaOptions, RunUmkaResult } from './run-umka';
export { buildUmka, umkaBuildKey, umkaIncludeDirs, UMKA_DEFINES, UMKA_FASM_MEMORY_KIB } from './umka-build';
export type { UmkaBuild, UmkaBuildOptions } from './umka-build';
