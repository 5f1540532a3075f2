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
  /** Live sockets a room accepts; one more is closed with 1013. */
  maxUsers: number;
  /** Messages a socket may send at once (images and layers count more). */
  rateLimitBurst: number;
  /** Messages per second a socket may keep sending. */
  rateLimitPerSecond: number;
}
