// What trace decoders need to know about an instruction; matches `classifyInstruction` of
// @fasmcov/tracer, so that function (or a test's stand-in) can be passed in.

export interface BranchInfo {
  length: number;
  /** 0 = not a branch, else a BRANCH kind; conditional branches report COND_TAKEN. */
  kind: number;
  /** Destination of a direct branch. */
  target?: number;
  conditional: boolean;
  mnemonic: string;
}

export type Classifier = (read8: (addr: number) => number, address: number) => BranchInfo;

/** Memoises a classifier over a fixed image (trace decoders revisit the same code constantly). */
export function cachedClassifier(
  classify: Classifier,
  read8: (addr: number) => number,
): (ip: number) => BranchInfo {
  const cache = new Map<number, BranchInfo>();
  return (ip) => {
    let info = cache.get(ip);
    if (info === undefined) {
      info = classify(read8, ip);
      cache.set(ip, info);
    }
    return info;
  };
}
