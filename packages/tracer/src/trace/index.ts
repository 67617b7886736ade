export { BufferSink, FileSink } from './byte-sink';
export type { ByteSink } from './byte-sink';
export { TraceFormatError } from './trace-error';
export {
  PT,
  PSB_SIZE,
  SHORT_TNT_MAX,
  LONG_TNT_MAX,
  IP_PAYLOAD_SIZE,
  PtDecodeError,
  writePacket,
  decodePacket,
  findPsb,
} from './packets';
export type { PtPacket, PtPacketType, IpPacketType, PtErrorCode, DecodedPacket } from './packets';
export { LastIp } from './last-ip';
export { TntCache, TntQueue } from './tnt-cache';
export { PtEncoder } from './pt-encoder';
export type { PtEncoderOptions, AddressRange } from './pt-encoder';
export { PtLog, PT_LOG_VERSION, DEFAULT_LOG_WORDS } from './pt-log';
export type { PtLogChannel, PtLogOptions, PtRecorder } from './pt-log';
export { PtReplay, InThreadChannel } from './pt-replay';
export type { PtReplayOptions } from './pt-replay';
export { WorkerChannel, defaultWorkerScript } from './pt-worker-channel';
export type { WorkerChannelOptions } from './pt-worker-channel';
export { LbrRecorder, LBR_SELECT, LBR_CALLSTACK_SELECT, formatLbr, branchKindName } from './lbr';
export type { LbrEntry, LbrOptions } from './lbr';
export { parseLbrSelect, lbrSelectFor, LbrSelectError, LBR_KIND_BITS } from './lbr-select';
export { EdgeRecorder, EDGES_SCHEMA } from './edges';
export type { Edge, EdgesDocument, EdgeRecorderOptions } from './edges';
export {
  UMKA_TABLE_ENTRIES,
  umkaTableFromEdges,
  writeUmkaTable,
  readUmkaTable,
  umkaInstructionCounts,
} from './umka-coverage';
export type { UmkaTable, UmkaInstruction, UmkaCounts } from './umka-coverage';
export { SIDEBAND_SCHEMA, validateSideband, readSideband, writeSideband, sidebandPath } from './sideband';
export type { Sideband, SidebandSection } from './sideband';
// Branch kinds the recorders take (defined by the CPU; re-exported for decoders using only trace/).
export { BRANCH } from '../cpu/constants';
export { PtTraceWriter, TRACE_FILE, SIDEBAND_FILE } from './pt-trace-writer';
export type { PtTraceWriterOptions } from './pt-trace-writer';
export { TraceSession } from './trace-session';
export type { TraceTargets } from './trace-session';
