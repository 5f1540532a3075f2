// The part of the `ws` package's API the self-hosted tests use (the package ships no types, and
// @types/ws is not a dependency): a WebSocket that sends request headers, with the browser's events.
declare module "ws" {
  export class WebSocket {
    constructor(url: string, options?: { headers?: Record<string, string>; localAddress?: string });
    addEventListener(type: "open" | "error", listener: () => void): void;
    addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
    addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
    send(data: string): void;
    close(): void;
  }
}
