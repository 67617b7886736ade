export * from './run-dir';
export { RunRecorder } from './run-recorder';
export type { RunRecorderOptions } from './run-recorder';
