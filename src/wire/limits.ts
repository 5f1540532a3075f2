// The limits of an instance and of each room: what they are, the var that sets
// each, its name in /rules and ROOM_LIMITS, its default and its floor. The server
// parses them from the vars (server/config.ts); the browser client reads them from /rules.
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
  /** Messages replayed on connect and answered by GET …/last (the history keeps more: the retention below). */
  maxStoredMessages: number;
  /** Days a stored message is kept; older ones are never shown and are deleted by the room's alarm. */
  retentionDays: number;
  /** Messages a room's history keeps at most; the oldest go first. */
  retentionMaxMessages: number;
  /** Bytes (UTF-8 JSON) a room's history keeps at most; the oldest go first. */
  retentionMaxBytes: number;
  /** Seconds a user's last position counts for positions and nearby, with no newer one. */
  positionMaxAgeSeconds: number;
  /** Largest WebSocket frame (in characters) read before it is even parsed. */
  maxFrameLength: number;
  /** Live sockets a room accepts; one more is closed with 1013. */
  maxUsers: number;
  /** Messages a socket may send at once (images and layers count more). */
  rateLimitBurst: number;
  /** Messages per second a socket may keep sending. */
  rateLimitPerSecond: number;
}

export interface LimitSpec {
  variable: string;
  /** Its name in /rules and in ROOM_LIMITS. */
  key: string;
  fallback: number;
  min: number;
  /** Whether a fraction is allowed (a rate), or only whole numbers. */
  fractional?: boolean;
}

/** Every limit: its variable, its key in /rules and ROOM_LIMITS, its default and its floor. */
export const LIMITS = {
  minAuthorLength: { variable: "MIN_AUTHOR_LENGTH", key: "min_author_length", fallback: 3, min: 1 },
  maxAuthorLength: { variable: "MAX_AUTHOR_LENGTH", key: "max_author_length", fallback: 32, min: 1 },
  maxMessageLength: { variable: "MAX_MESSAGE_LENGTH", key: "max_message_length", fallback: 255, min: 1 },
  maxImageSize: { variable: "MAX_IMAGE_SIZE", key: "max_image_size", fallback: 800, min: 1 },
  maxImageRawLength: { variable: "MAX_IMAGE_RAW_LENGTH", key: "max_image_raw_length", fallback: 5_000_000, min: 1 },
  // 12.6 megapixels: a 12 MP phone photo (4032x3024, or 4080x3072) and a 4K screenshot (3840x2160).
  maxImagePixels: { variable: "MAX_IMAGE_PIXELS", key: "max_image_pixels", fallback: 12_600_000, min: 1 },
  maxGeojsonFeatures: { variable: "MAX_GEOJSON_FEATURES", key: "max_geojson_features", fallback: 500, min: 1 },
  maxModelRawLength: { variable: "MAX_MODEL_RAW_LENGTH", key: "max_model_raw_length", fallback: 1_000_000, min: 1 },
  maxScriptRawLength: { variable: "MAX_SCRIPT_RAW_LENGTH", key: "max_script_raw_length", fallback: 2_000_000, min: 1 },
  maxStoredMessages: { variable: "MAX_STORED_MESSAGES", key: "max_stored_messages", fallback: 5, min: 0 },
  // A month, 10,000 messages, 50 MB: see the README (Configuration) for why.
  retentionDays: { variable: "RETENTION_DAYS", key: "retention_days", fallback: 30, min: 1 },
  retentionMaxMessages: { variable: "RETENTION_MAX_MESSAGES", key: "retention_max_messages", fallback: 10_000, min: 1 },
  retentionMaxBytes: { variable: "RETENTION_MAX_BYTES", key: "retention_max_bytes", fallback: 50_000_000, min: 1 },
  // An hour: a field session. Someone who shared a position an hour ago and nothing
  // since is not "near" any more for the people looking for help around them.
  positionMaxAgeSeconds: { variable: "POSITION_MAX_AGE_SECONDS", key: "position_max_age_seconds", fallback: 3600, min: 1 },
  maxFrameLength: { variable: "MAX_FRAME_LENGTH", key: "max_frame_length", fallback: 12_000_000, min: 1 },
  maxUsers: { variable: "MAX_USERS", key: "max_users", fallback: 1000, min: 1 },
  rateLimitBurst: { variable: "RATE_LIMIT_BURST", key: "rate_limit_burst", fallback: 20, min: 1 },
  rateLimitPerSecond: { variable: "RATE_LIMIT_PER_SECOND", key: "rate_limit_per_second", fallback: 2, min: 0.01, fractional: true },
} as const satisfies { readonly [K in keyof Limits]: LimitSpec };

/** The limits as /rules and …/{name}/rules show them, by their snake_case keys. */
export type LimitsByKey = { [K in keyof Limits as (typeof LIMITS)[K]["key"]]: number };
