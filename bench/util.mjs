// Small helpers shared by the benchmarks (fanout.mjs, stall.mjs, images.mjs): waiting with a
// deadline, the error that is reported as a plain message, and the figures' arithmetic and layout.
import { setTimeout as sleep } from "node:timers/promises";

/** A failure the bench explains itself: printed as its message, without a stack. */
export class BenchError extends Error {
  name = "BenchError";
}

/**
 * Runs a bench's main and exits as soon as it is done, 0 or 1: sockets left open or timers of an
 * abandoned wait must not keep the process alive.
 */
export function runBench(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`\nBench failed: ${error instanceof BenchError ? error.message : error?.stack ?? error}`);
      process.exit(1);
    },
  );
}

/** Wall-clock milliseconds, the same clock for a send time and a receive time within one process. */
export const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------
// Waiting, always with a deadline

/**
 * Polls `condition` until it is true. Throws on timeout, or as soon as `abortReason()` says why
 * waiting is pointless; `what` (a string, or a function for a description of the state at that time)
 * says what was awaited.
 */
export async function waitUntil(condition, { timeoutMs, what, abortReason = () => undefined, pollMs = 10 }) {
  const describe = () => (typeof what === "function" ? what() : what);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = abortReason();
    if (reason) throw new BenchError(`${describe()}: ${reason}`);
    if (condition()) return;
    if (performance.now() > deadline) throw new BenchError(`${describe()}: timed out after ${timeoutMs / 1000} s`);
    await sleep(pollMs);
  }
}

export function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(`${what}: timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Waits for `count()` to reach `expected`, for deliveries that may never all come: returns normally
 * once they stop coming for `idleMs` or after `totalMs` in all (the missing ones are then reported by
 * the caller), throws as soon as `abortReason()` says why waiting is pointless.
 */
export async function waitForProgress(count, expected, { idleMs, totalMs, what, abortReason }) {
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
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** The count, p50, p90, p99 and max of some values (NaN for those of none). */
export function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
  };
}

export function median(values) {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Milliseconds with one decimal, "-" for a figure that could not be measured (NaN). */
export function ms(value) {
  return Number.isNaN(value) ? "-" : value.toFixed(1);
}

export function seconds(milliseconds) {
  return `${(milliseconds / 1000).toFixed(1)} s`;
}

/**
 * Prints a header, a rule and the rows, each column as wide as its widest cell and right-aligned
 * (figures), the first one left-aligned with `firstLeft` (names). The rule crosses the separator
 * with dashes ("-|-" under " | "), or keeps it when it is only spaces.
 */
export function printTable(header, rows, { separator = " | ", firstLeft = false } = {}) {
  const cells = rows.map((row) => row.map(String));
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column].length)));
  const align = (cell, column) => (firstLeft && column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]));
  const line = (row) => row.map(align).join(separator);
  const rule = separator.trim() === "" ? separator : separator.replaceAll(" ", "-");
  console.log(line(header));
  console.log(widths.map((width) => "-".repeat(width)).join(rule));
  for (const row of cells) console.log(line(row));
}
