// A webhook receiver on 127.0.0.1 for the end-to-end test and the webhook benchmark:
// a real HTTP server (node:http) that checks each delivery's signature as a bot would
// (HMAC-SHA256 of the raw body under the secret, compared in constant time), records
// it, and answers 200, or fails the next requests when told to.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";

export interface ReceivedDelivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether X-Gischat-Signature is the HMAC of the body under the receiver's secret. */
  signatureValid: boolean;
  status: number;
  /** performance.now() when the body was read. */
  at: number;
}

/** The signature header a delivery of `body` must carry under `secret`. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export function signatureMatches(secret: string, body: string, header: string | string[] | undefined): boolean {
  if (typeof header !== "string") return false;
  const expected = Buffer.from(signatureOf(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  private failuresLeft = 0;
  private failStatus = 500;
  private listeners: (() => void)[] = [];
  private readonly server: http.Server;
  readonly port: number;
  readonly secret: string;

  private constructor(server: http.Server, port: number, secret: string) {
    this.server = server;
    this.port = port;
    this.secret = secret;
  }

  /** Listens on 127.0.0.1, on a free port. */
  static async start(secret: string): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => receiver?.take(request, Buffer.concat(chunks).toString("utf8"), response));
    });
    // Deliveries are small and come one after the other on a kept-alive connection.
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("the receiver has no port");
    receiver = new WebhookReceiver(server, address.port, secret);
    return receiver;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The next `count` deliveries are answered `status`. */
  failNext(count: number, status = 500): void {
    this.failuresLeft = count;
    this.failStatus = status;
  }

  /** Waits until `count` deliveries have arrived, failing after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<ReceivedDelivery[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`the receiver got ${this.received.length} deliveries, not ${count}, within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(request: http.IncomingMessage, body: string, response: http.ServerResponse): void {
    const signatureValid = signatureMatches(this.secret, body, request.headers["x-gischat-signature"]);
    let status = signatureValid ? 200 : 401;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      status = this.failStatus;
    }
    this.received.push({ path: request.url ?? "", headers: request.headers, body, signatureValid, status, at: performance.now() });
    response.writeHead(status, { "Content-Type": "text/plain" }).end(status === 200 ? "ok" : "no");
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
