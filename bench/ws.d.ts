// The part of the `ws` package's API the benches use (the package ships no types, and @types/ws
// is not a dependency): a WebSocket with the browser's event methods, plus terminate().
declare module "ws" {
  export class WebSocket {
    constructor(url: string, options?: { perMessageDeflate?: boolean; headers?: Record<string, string> });
  }
}
