// The instance's limits, as parsed by config.ts from the wrangler [vars].
export interface Limits {
  minAuthorLength: number;
  maxAuthorLength: number;
  maxMessageLength: number;
  maxImageSize: number;
  maxImageRawLength: number;
  /** Largest width x height decoded; read from the header, so bombs are never decoded. */
  maxImagePixels: number;
  maxGeojsonFeatures: number;
  maxModelRawLength: number;
  maxScriptRawLength: number;
  maxStoredMessages: number;
  /** Largest WebSocket frame (in characters) read before it is even parsed. */
  maxFrameLength: number;
}
