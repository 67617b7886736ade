export { runEmulatorBench, BenchError } from './emulator-bench';
export type { EmulatorBenchResult, EmulatorBenchOptions } from './emulator-bench';
export { CPU_WORKLOADS, NATIVE_DEFINITION } from './workloads';
export type { CpuWorkload } from './workloads';
export { runFsBench } from './fs-bench';
export type { FsBenchResult } from './fs-bench';
