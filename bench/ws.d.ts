// The part of the `ws` package's API the benches use (the package ships no types, and @types/ws
// is not a dependency): a WebSocket with the browser's event methods, plus terminate(); and the
// server of the Node baseline (bare-ws-server.ts).
declare module "ws" {
  export class WebSocket {
    constructor(url: string, options?: { perMessageDeflate?: boolean; headers?: Record<string, string> });
  }

  /** A server-side socket: what bare-ws-server.ts uses of it. */
  export interface ServerSocket {
    send(data: unknown, options: { binary: boolean }): void;
    on(event: "message", listener: (data: unknown, isBinary: boolean) => void): void;
    on(event: "close", listener: () => void): void;
  }

  export class WebSocketServer {
    constructor(options: { host?: string; port: number; perMessageDeflate?: boolean });
    on(event: "connection", listener: (ws: ServerSocket, request: { url?: string }) => void): void;
    on(event: "listening", listener: () => void): void;
    address(): { port: number } | string | null;
  }
}
