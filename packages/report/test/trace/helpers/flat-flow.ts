// The check shared by the PT tests on emulator runs of a flat binary: libipt and our decoder
// walk the recorded trace over the binary and must each retire exactly the expected instructions.
import { classifyInstruction } from '@fasmcov/tracer';
import type { EdgeRecorder } from '@fasmcov/tracer';
import { CodeImage, decodeFlow } from '@fasmcov/report';
import { oracleFlow } from './ipt-oracle';

/** Counts by address, in address order. */
export const sorted = (m: Map<number, number>): Array<[number, number]> => [...m].sort((a, b) => a[0] - b[0]);
/** The sum of the counts. */
export const total = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** A traced run: the PT bytes, the file holding them, and the edges recorded beside them. */
export interface TracedFlow {
  trace: Uint8Array;
  traceFile: string;
  edges: EdgeRecorder;
}

/**
 * libipt over `bin` (loaded at `org`) counts `expected` (instructions by address, as single
 * stepping gives them) with no error; our decoder counts as many and finds the recorded edges.
 * Returns the image our decoder walked.
 */
export function expectFlowsMatch(
  run: TracedFlow,
  bin: string,
  bytes: Uint8Array,
  org: number,
  expected: Map<number, number>,
): CodeImage {
  const lib = oracleFlow(run.traceFile, [`${bin}:0:${bytes.length}:${org}`]);
  expect(lib.errors).toEqual([]);
  expect(lib.instructions).toBe(total(expected));
  expect(sorted(lib.perIp)).toEqual(sorted(expected));

  const image = new CodeImage();
  image.add(org, bytes);
  const ours = decodeFlow(run.trace, { classify: classifyInstruction, read8: image.read8 });
  expect(ours.errors).toEqual([]);
  expect(ours.instructions).toBe(total(expected));
  expect(ours.edges.toDocument()).toEqual(run.edges.toDocument());
  return image;
}
