// Small helpers shared by the benchmarks (fanout.ts, stall.ts, flood.ts, image-pipeline.ts): waiting
// with a deadline, the error that is reported as a plain message, and the figures' arithmetic and layout.
import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError } from "../tools/dev-server.ts";

/** A failure the bench explains itself: printed as its message, without a stack. */
export class BenchError extends Error {
  override name = "BenchError";
}

/** Whether an error is one of the explained ones (the bench's or the launcher's), printed without a stack. */
export function isExplained(error: unknown): error is Error {
  return error instanceof BenchError || error instanceof DevServerError;
}

/** An error's message, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a bench's main and exits as soon as it is done, 0 or 1: sockets left open or timers of an
 * abandoned wait must not keep the process alive.
 */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`\nBench failed: ${isExplained(error) ? error.message : error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    },
  );
}

/** Wall-clock milliseconds, the same clock for a send time and a receive time within one process. */
export const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// Waiting, always with a deadline

/** Why waiting is pointless, if it is. */
export type AbortReason = () => string | undefined;

export interface WaitOptions {
  timeoutMs: number;
  /** What was awaited: a string, or a function for a description of the state at that time. */
  what: string | (() => string);
  abortReason?: AbortReason;
  pollMs?: number;
}

/** Polls `condition` until it is true. Throws on timeout, or as soon as `abortReason()` says why waiting is pointless. */
export async function waitUntil(
  condition: () => boolean,
  { timeoutMs, what, abortReason = () => undefined, pollMs = 10 }: WaitOptions,
): Promise<void> {
  const describe = (): string => (typeof what === "function" ? what() : what);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = abortReason();
    if (reason) throw new BenchError(`${describe()}: ${reason}`);
    if (condition()) return;
    if (performance.now() > deadline) throw new BenchError(`${describe()}: timed out after ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(`${what}: timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ProgressOptions {
  idleMs: number;
  totalMs: number;
  what: string;
  abortReason: AbortReason;
}

/**
 * Waits for `count()` to reach `expected`, for deliveries that may never all come: returns normally
 * once they stop coming for `idleMs` or after `totalMs` in all (the missing ones are then reported by
 * the caller), throws as soon as `abortReason()` says why waiting is pointless.
 */
export async function waitForProgress(
  count: () => number,
  expected: number,
  { idleMs, totalMs, what, abortReason }: ProgressOptions,
): Promise<void> {
  const started = performance.now();
  let lastCount = -1;
  let lastProgress = started;
  while (count() < expected) {
    const reason = abortReason();
    if (reason) throw new BenchError(`${what}: ${reason}`);
    if (count() !== lastCount) [lastCount, lastProgress] = [count(), performance.now()];
    if (performance.now() - lastProgress > idleMs || performance.now() - started > totalMs) return;
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------
// Figures

/** The nearest-rank percentile of an ascending array (NaN if empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The count, p50, p90, p99 and max of some values (NaN for those of none). */
export function summary(values: Iterable<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : NaN,
  };
}

export function median(values: readonly number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Milliseconds with one decimal, "-" for a figure that could not be measured (NaN). */
export function ms(value: number): string {
  return Number.isNaN(value) ? "-" : value.toFixed(1);
}

export function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

export interface TableLayout {
  separator?: string;
  firstLeft?: boolean;
}

/**
 * Prints a header, a rule and the rows, each column as wide as its widest cell and right-aligned
 * (figures), the first one left-aligned with `firstLeft` (names). The rule crosses the separator
 * with dashes ("-|-" under " | "), or keeps it when it is only spaces.
 */
export function printTable(
  header: readonly string[],
  rows: readonly (readonly unknown[])[],
  { separator = " | ", firstLeft = false }: TableLayout = {},
): void {
  const cells = rows.map((row) => row.map(String));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]?.length ?? 0)));
  const align = (cell: string, column: number): string =>
    firstLeft && column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!);
  const line = (row: readonly string[]): string => row.map(align).join(separator);
  const rule = separator.trim() === "" ? separator : separator.replaceAll(" ", "-");
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join(rule));
  for (const row of cells) console.log(line(row));
}
