/** A misuse of the host-call ABI (unknown symbol, stack imbalance, guest stopped inside a call...). */
export class HostCallError extends Error {
  constructor(
    message: string,
    /** Guest address concerned (the called function or the stub), when known. */
    readonly address?: number,
  ) {
    super(message);
    this.name = 'HostCallError';
  }
}

/** The instruction budget ran out (the guest may be in an endless loop). */
export class BudgetExhaustedError extends Error {
  constructor(
    readonly instructions: number,
    /** eip when the budget ran out. */
    readonly eip: number,
    readonly where?: string,
  ) {
    super(
      `instruction budget of ${instructions} exhausted at eip 0x${(eip >>> 0).toString(16).padStart(8, '0')}` +
        (where ? ` (${where})` : ''),
    );
    this.name = 'BudgetExhaustedError';
  }
}
