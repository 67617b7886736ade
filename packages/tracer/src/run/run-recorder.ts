import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyInstruction, type Cpu, type Memory } from '../cpu';
import type { LoadedImage } from '../loaders';
import { EdgeRecorder } from '../trace/edges';
import { formatLbr, LbrRecorder } from '../trace/lbr';
import { PtTraceWriter } from '../trace/pt-trace-writer';
import { TraceSession } from '../trace/trace-session';
import {
  EDGES_FILE,
  IMAGE_FILE,
  LBR_FILE,
  RUN_FILE,
  RUN_SCHEMA,
  type RunInfo,
  type RunSection,
  type TraceKind,
} from './run-dir';

const SHF_ALLOC_EXEC = 4;

export interface RunRecorderOptions {
  /** The run directory; replaced as a whole when the run is finished. */
  dir: string;
  test: string;
  traces: TraceKind[];
  lbrDepth?: number;
  /** MSR_LBR_SELECT value of the LBR (see trace/lbr-select.ts); default 0, every branch. */
  lbrSelect?: number;
  /** See TraceSession: 1 when host functions are HostCallTable stubs (the script runner). */
  hostCallTail?: number;
}

/**
 * Records one run into a run directory: snapshots the loaded code, attaches the chosen
 * recorders to the CPU, and on `finish` writes every file. Everything is written into a
 * temporary directory beside `dir` that replaces it only when complete; `abandon` removes it.
 */
export class RunRecorder {
  private readonly tmp: string;
  private readonly sections: RunSection[] = [];
  private readonly edges?: EdgeRecorder;
  private readonly lbr?: LbrRecorder;
  private readonly pt?: PtTraceWriter;
  private readonly session: TraceSession;
  readonly ranges: Array<{ start: number; end: number }>;

  constructor(
    images: LoadedImage[],
    memory: Memory,
    private readonly opts: RunRecorderOptions,
  ) {
    this.tmp = `${path.resolve(opts.dir)}.tmp-${process.pid}`;
    fs.rmSync(this.tmp, { recursive: true, force: true });
    fs.mkdirSync(this.tmp, { recursive: true });
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const image of images) {
      for (const s of image.sections) {
        if (s.size === 0) continue;
        const bytes = memory.readBytes(s.base, s.size);
        chunks.push(bytes);
        const rs: RunSection = {
          name: s.name,
          source: image.file,
          address: s.base,
          size: s.size,
          flags: s.flags,
          offset,
        };
        if (s.fasSection > 0) rs.fasSection = s.fasSection;
        this.sections.push(rs);
        offset += s.size;
      }
    }
    fs.writeFileSync(path.join(this.tmp, IMAGE_FILE), Buffer.concat(chunks));
    this.ranges = this.sections
      .filter((s) => s.flags & SHF_ALLOC_EXEC)
      .map((s) => ({ start: s.address, end: s.address + s.size }));
    if (opts.traces.includes('edges')) this.edges = new EdgeRecorder({ ranges: this.ranges });
    if (opts.traces.includes('lbr'))
      this.lbr = new LbrRecorder({ depth: opts.lbrDepth, select: opts.lbrSelect });
    if (opts.traces.includes('pt')) {
      this.pt = new PtTraceWriter(this.tmp, {
        ranges: this.ranges,
        // As on real PT (DisRETC clear): a return to its call site is one TNT bit.
        retCompression: { insnLength: (a) => classifyInstruction((x) => memory.read8(x), a).length },
        sections: this.sections
          .filter((s) => s.flags & SHF_ALLOC_EXEC)
          .map((s) => ({
            name: s.name,
            address: s.address,
            size: s.size,
            file: IMAGE_FILE,
            offset: s.offset,
          })),
      });
    }
    this.session = new TraceSession(
      { edges: this.edges, lbr: this.lbr, pt: this.pt?.recorder },
      opts.hostCallTail ?? 0,
    );
  }

  private startCount = 0;
  private startRestarts = 0;
  private cpu: Cpu | undefined;

  /** Starts recording at the CPU's current eip. */
  attach(cpu: Cpu): void {
    this.startCount = cpu.instructionsRetired;
    this.startRestarts = cpu.repRestarts;
    this.cpu = cpu;
    this.session.attach(cpu);
  }

  /** attach() was called. */
  get attached(): boolean {
    return this.cpu !== undefined;
  }

  /**
   * The host enters the guest at `address` (KernelSession.beforeCall): the first entry starts
   * recording there, each later one resumes tracing.
   */
  enter(cpu: Cpu, address: number): void {
    if (this.attached) return this.resume(address);
    cpu.eip = address;
    this.attach(cpu);
  }

  /** Resumes tracing at `ip` (the host enters the guest there again, e.g. the next callGuest). */
  resume(ip: number): void {
    this.session.start(ip);
  }

  /** Ends the traces before `nextIp` and writes the run directory. */
  finish(nextIp: number, instructions: number, end: RunInfo['end']): string {
    // Host-call instructions run outside the traces; everything else since attach is traced.
    // Rep restarts retire without executing the instruction anew (see Cpu.repRestarts).
    const restarts = (this.cpu?.repRestarts ?? 0) - this.startRestarts;
    const traced = instructions - this.startCount - this.session.hostInstructions - restarts;
    this.session.finish(nextIp);
    this.pt?.finish(nextIp, traced);
    if (this.edges)
      fs.writeFileSync(path.join(this.tmp, EDGES_FILE), `${JSON.stringify(this.edges.toDocument())}\n`);
    if (this.lbr) {
      const ring = this.lbr.snapshot();
      fs.writeFileSync(path.join(this.tmp, LBR_FILE), `${JSON.stringify(ring)}\n`);
      fs.writeFileSync(path.join(this.tmp, 'lbr.txt'), `${formatLbr(ring)}\n`);
    }
    const info: RunInfo = {
      schema: RUN_SCHEMA,
      test: this.opts.test,
      traces: [...this.opts.traces],
      sections: this.sections,
      ranges: this.ranges,
      instructions,
      tracedInstructions: traced,
      end,
    };
    fs.writeFileSync(path.join(this.tmp, RUN_FILE), `${JSON.stringify(info, null, 1)}\n`);
    fs.rmSync(this.opts.dir, { recursive: true, force: true });
    fs.renameSync(this.tmp, this.opts.dir);
    return this.opts.dir;
  }

  /** Removes the partial run directory (a run that could not finish). */
  abandon(): void {
    this.pt?.abandon();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
