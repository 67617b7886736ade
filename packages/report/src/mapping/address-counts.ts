/**
 * Execution counts by guest address: what every trace kind (edges, PT, probes, UMKa files) is
 * reduced to before the one mapping to source lines (`map-coverage.ts`).
 */
export interface AddressCounts {
  /** Executions per instruction address; instructions not listed ran 0 times. */
  instructions: Map<number, number>;
  /** Arms of conditional branches (jcc, loop*, jecxz), by the branch's address. */
  branches: Map<number, { taken: number; notTaken: number }>;
  /** Entries into code at an address: calls to it, and entries from the host. */
  entries: Map<number, number>;
}

export function emptyAddressCounts(): AddressCounts {
  return { instructions: new Map(), branches: new Map(), entries: new Map() };
}
