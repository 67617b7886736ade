/** Where progress goes: a stream, told whether it is a terminal (a TTY gets one updating line). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Progress of a command's long steps. On a terminal, a single line rewritten in place
 * (`prefix: step n/N, elapsed, item`); elsewhere (CI logs, pipes) plain lines, one per item,
 * because carriage returns make logs unreadable.
 */
export class Progress {
  private step = '';
  private total = 0;
  private done = 0;
  private stepStarted = 0;
  private barShown = false;

  constructor(
    private readonly prefix: string,
    private readonly out: ProgressOutput = process.stdout,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts a step of `total` items (1 for a step with no parts). */
  start(step: string, total = 1): void {
    this.step = step;
    this.total = total;
    this.done = 0;
    this.stepStarted = this.now();
    if (this.out.isTTY) this.draw('');
    else if (total <= 1) this.out.write(`${this.prefix}: ${step}\n`);
  }

  /** One item of the step finished; `item` names it (e.g. the script). */
  tick(item = ''): void {
    this.done = Math.min(this.done + 1, this.total);
    if (this.out.isTTY) this.draw(item);
    else if (this.total > 1) this.out.write(`${this.prefix}: ${this.status(item)}\n`);
  }

  /** A line that stays (a result, a warning): clears the bar first, which the next update redraws. */
  log(line: string): void {
    this.clear();
    this.out.write(`${this.prefix}: ${line}\n`);
  }

  /** Removes the bar (before the command prints its own output). */
  clear(): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
  }

  private status(item: string): string {
    const secs = ((this.now() - this.stepStarted) / 1000).toFixed(1);
    const count = this.total > 1 ? ` ${this.done}/${this.total}` : '';
    return `${this.step}${count} (${secs} s)${item ? ` ${item}` : ''}`;
  }

  private draw(item: string): void {
    const width = this.total > 1 ? 20 : 0;
    const filled = this.total > 1 ? Math.round((width * this.done) / this.total) : 0;
    const bar = width ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    this.out.write(`\r\x1b[K${this.prefix}: ${bar}${this.status(item)}`);
    this.barShown = true;
  }
}
