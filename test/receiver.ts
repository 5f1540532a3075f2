// The tests' side of test/webhook-receiver.js (the main Worker's outbound service in
// vitest.config.ts): what a host received, and failing its next requests on demand.

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

const WAIT_MS = 5_000;

/** The receiver's records and controls for one host name (a test's own, or the Matrix homeserver's). */
export function receiverAt(host: string) {
  return {
    url: (path = "/hook") => `https://${host}${path}`,
    /** The next `count` requests fail with `status` (-1: all of them, until told otherwise). */
    async fail(count: number, status = 503): Promise<void> {
      await fetch(`https://${host}/__control`, { method: "POST", body: JSON.stringify({ fail: count, status }) });
    },
    async received(): Promise<Received[]> {
      return (await fetch(`https://${host}/__records`)).json();
    },
    /** Waits until `count` of its requests pass `which` (all by default), failing after a timeout. */
    async waitFor(count: number, timeoutMs = WAIT_MS, which: (request: Received) => boolean = () => true): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = (await this.received()).filter(which);
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`${host} received ${got.length} requests, not ${count}, within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** A receiver of its own for one test: https://t-<uuid>.hooks.test. */
export function freshReceiver() {
  return receiverAt(`t-${crypto.randomUUID()}.hooks.test`);
}
