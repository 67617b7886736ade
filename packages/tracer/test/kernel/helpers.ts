import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FasFile } from '@fasmcov/fas';
import {
  buildKernel,
  KernelSession,
  labelAddress,
  xorshift32,
  type KernelSessionOptions,
} from '@fasmcov/tracer';

export const repoRoot = path.resolve(__dirname, '../../../..');
/** The kernel tree under test ($FASMCOV_KERNEL_SOURCE lets a developer point at a work copy). */
export const kernelDir = process.env.FASMCOV_KERNEL_SOURCE ?? path.join(repoRoot, 'kernel');

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fasmcov-kernel-'));
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

export function tempDir(): string {
  return outDir;
}

let built: { object: Buffer; fas: FasFile; file: string } | undefined;

/** The kernel assembled by real fasm (once per test file). */
export function kernel(): { object: Buffer; fas: FasFile; file: string } {
  if (!built) {
    const b = buildKernel(kernelDir, path.join(outDir, 'kernel'));
    built = { object: fs.readFileSync(b.object), fas: FasFile.read(b.fas), file: b.object };
  }
  return built;
}

export function openSession(opts: Partial<KernelSessionOptions> = {}): KernelSession {
  const k = kernel();
  return new KernelSession(k.object, k.file, { maxInstructions: 1e9, ...opts });
}

/** Calls any kernel procedure (public or not) by name, stdcall; returns edx:eax. */
export function callLabel(session: KernelSession, name: string, args: number[]): bigint {
  const image = session.machine.images[0];
  const address = labelAddress(kernel().fas, image, name);
  if (address === undefined) throw new Error(`no kernel label ${name}`);
  return session.machine.callGuest64(address, args, { convention: 'stdcall', maxInstructions: 1e8 });
}

/** A small deterministic PRNG for test inputs (the kernel fuzzer's). */
export const prng = xorshift32;
