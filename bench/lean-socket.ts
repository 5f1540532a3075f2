// A WebSocket client that costs the bench as little as possible, for benches whose own client would
// otherwise be what they measure (stall.ts: 20 listeners take in 1.3 MB per image each). The `ws`
// package with compression off (like QWebSocket), no UTF-8 validation (the server's frames are its
// own JSON), and a frame longer than BIG_FRAME bytes is never turned into a string: the listener gets
// a BigFrame, its first bytes and its length. Only its own module for the listener processes
// (stall-listeners.ts) and the bench that runs them.
import type { BenchSocket } from "./room-client.ts";

/** Frames at least this long (bytes) reach the listener as a BigFrame. */
export const BIG_FRAME = 20_000;
const HEAD_BYTES = 400;

/** A long frame, as far as a bench reads it: its first HEAD_BYTES bytes (as text) and its length in bytes. */
export interface BigFrame {
  big: true;
  head: string;
  length: number;
}

export function isBigFrame(data: unknown): data is BigFrame {
  return typeof data === "object" && data !== null && (data as BigFrame).big === true;
}

/** The `ws` package's socket as created here: its Node-style API. */
interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly extensions: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: "message", listener: (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean) => void): void;
  on(event: "open", listener: () => void): void;
  on(event: "close", listener: (code: number, reason: Buffer) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
}

type WsConstructor = new (
  url: string,
  options: { perMessageDeflate: boolean; skipUTF8Validation: boolean; maxPayload: number },
) => WsSocket;

/** A frame as the listener receives it: a string, or a BigFrame. */
export function leanData(data: Buffer): string | BigFrame {
  if (data.length < BIG_FRAME) return data.toString("utf8");
  return { big: true, head: data.toString("latin1", 0, HEAD_BYTES), length: data.length };
}

/** url -> a BenchSocket whose message events carry a string or a BigFrame. */
export async function leanSocketFactory(): Promise<(url: string) => BenchSocket> {
  const { WebSocket } = (await import("ws")) as unknown as { WebSocket: WsConstructor };
  return (url) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 64 * 1024 * 1024 });
    return {
      get readyState() {
        return ws.readyState;
      },
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      get extensions() {
        return ws.extensions;
      },
      send: (data) => ws.send(data),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      addEventListener(type: string, listener: (event: never) => void): void {
        const call = listener as (event: unknown) => void;
        if (type === "message")
          ws.on("message", (data, isBinary) =>
            call({ data: isBinary ? data : leanData(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[])) }),
          );
        else if (type === "open") ws.on("open", () => call({}));
        else if (type === "close") ws.on("close", (code, reason) => call({ code, reason: reason.toString() }));
        else if (type === "error") ws.on("error", (error) => call({ message: error.message }));
      },
    } as BenchSocket;
  };
}
