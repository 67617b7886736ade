export {
  COVERAGE_SCHEMA,
  CoverageFormatError,
  validateCoverage,
  normalizeCoverage,
  mergeCoverage,
} from './model/document';
export type {
  CoverageDocument,
  FileCoverageRecord,
  LineCoverage,
  BranchCoverage,
  FunctionCoverage,
} from './model/document';
export { summarize, summarizeFile, metric } from './model/summary';
export type { CoverageSummary, Metric } from './model/summary';
export { writeLcov, lcovTestName } from './model/lcov-writer';
export type { LcovOptions } from './model/lcov-writer';
export { toCoverageMap, toFileCoverageData } from './model/istanbul';
export { readLcov } from './model/lcov-reader';
export { readCoverageFile, mergeByTest } from './model/coverage-files';
export { writeAsmHtml } from './asm-html/write-site';
export type { AsmHtmlOptions } from './asm-html/write-site';
export { flameTreeFromFolded } from './asm-html/flame';
export type { FlameNode } from './asm-html/flame';
export { writeReports, REPORTERS, ReportError } from './reporters/write-reports';
export type { WriteReportsOptions } from './reporters/write-reports';
export { checkThresholds } from './reporters/thresholds';
export type { Thresholds } from './reporters/thresholds';
export { filterFiles } from './reporters/filter';
export * from './trace';
export { mapCoverage } from './mapping/map-coverage';
export type { MapCoverageOptions, MappedSection, MappingDiagnostic } from './mapping/map-coverage';
export { emptyAddressCounts } from './mapping/address-counts';
export type { AddressCounts } from './mapping/address-counts';
export { isDataLine } from './mapping/line-kind';
export { mergeExpansions } from './mapping/expansions';
export type { ExpandedLine, MacroExpansions } from './mapping/expansions';
export { runReportBench } from './bench/report-bench';
export type { ReportBenchResult, ReportTimes, ReportInputSize } from './bench/report-bench';
export { addressCountsFromEdges } from './mapping/from-edges';
export {
  coverageFromRunDir,
  readRunInfo,
  runAddressCounts,
  runImage,
  runEdges,
  RunDirError,
} from './run/run-coverage';
export type { TraceSource } from './run/run-coverage';
export { changedLines, diffCoverage, DiffError } from './reporters/diff-coverage';
export { CallStackProfiler } from './profile/call-stacks';
export type { CallStackOptions } from './profile/call-stacks';
export { profileFromRunDir, frameNamer, mergeFolded } from './profile/run-profile';
export {
  coverageFromUmkaTables,
  addressCountsFromUmka,
  readUmkaFiles,
  sumUmkaTables,
  umkaBase,
  defaultObjectFile,
  UmkaImportError,
  UMKA_BASE_SYMBOL,
} from './umka/umka-import';
export type { UmkaImportOptions } from './umka/umka-import';
