// The [vars]: parsed once, typed, and loud about bad values.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { ConfigError, limitsOf, parseConfig } from "../src/server/config";

describe("parseConfig", () => {
  it("uses the documented defaults for absent variables", () => {
    const config = parseConfig({});
    expect(config.roomLimits).toEqual(
      new Map([
        ["QGIS", config.limits],
        ["Geotribu", config.limits],
      ]),
    );
    expect(config).toEqual({
      rooms: ["QGIS", "Geotribu"],
      rules: "YOLO",
      mainLang: "en",
      adminToken: undefined,
      qfieldPluginUrl: "https://github.com/geotribu/qchat-qfield-plugin/releases/latest/download/qfchat-latest.zip",
      webhooks: { allowHttpLocal: false, outboxMax: 1000 },
      matrixPing: undefined,
      roomLimits: expect.any(Map),
      limits: {
        minAuthorLength: 3,
        maxAuthorLength: 32,
        maxMessageLength: 255,
        maxImageSize: 800,
        maxImageRawLength: 5_000_000,
        maxImagePixels: 12_600_000,
        maxGeojsonFeatures: 500,
        maxModelRawLength: 1_000_000,
        maxScriptRawLength: 2_000_000,
        maxStoredMessages: 5,
        retentionDays: 30,
        retentionMaxMessages: 10_000,
        retentionMaxBytes: 50_000_000,
        positionMaxAgeSeconds: 3600,
        maxFrameLength: 12_000_000,
        maxUsers: 1000,
        rateLimitBurst: 20,
        rateLimitPerSecond: 2,
      },
    });
  });

  it("trims room names and keeps their spaces, from CHANNELS or ROOMS", () => {
    expect(parseConfig({ CHANNELS: " QGIS , Field and mobile " }).rooms).toEqual(["QGIS", "Field and mobile"]);
    expect(parseConfig({ ROOMS: "A,B" }).rooms).toEqual(["A", "B"]);
    expect(parseConfig({ ROOMS: "A,B", CHANNELS: "A,B" }).rooms).toEqual(["A", "B"]);
  });

  it.each([
    [{ MAX_MESSAGE_LENGTH: "abc" }, 'MAX_MESSAGE_LENGTH must be a whole number, got "abc"'],
    [{ MAX_STORED_MESSAGES: "-1" }, 'MAX_STORED_MESSAGES must be a whole number, got "-1"'],
    [{ MAX_IMAGE_SIZE: "0" }, "MAX_IMAGE_SIZE must be at least 1, got 0"],
    [{ MAX_GEOJSON_FEATURES: "1.5" }, 'MAX_GEOJSON_FEATURES must be a whole number, got "1.5"'],
    [{ MIN_AUTHOR_LENGTH: "40" }, "MIN_AUTHOR_LENGTH (40) must not be greater than MAX_AUTHOR_LENGTH (32)"],
    [{ RETENTION_DAYS: "0" }, "RETENTION_DAYS must be at least 1, got 0"],
    [{ RETENTION_DAYS: "7.5" }, 'RETENTION_DAYS must be a whole number, got "7.5"'],
    [{ RETENTION_MAX_MESSAGES: "many" }, 'RETENTION_MAX_MESSAGES must be a whole number, got "many"'],
    [{ RETENTION_MAX_BYTES: "0" }, "RETENTION_MAX_BYTES must be at least 1, got 0"],
    [
      { RETENTION_MAX_MESSAGES: "3" },
      "MAX_STORED_MESSAGES (5) must not be greater than RETENTION_MAX_MESSAGES (3): the replay is taken from the history",
    ],
    [
      { ROOM_LIMITS: '{"QGIS": {"retention_max_messages": 2}}' },
      'ROOM_LIMITS["QGIS"].max_stored_messages (5) must not be greater than retention_max_messages (2)',
    ],
    [{ CHANNELS: "" }, "CHANNELS must list at least one room name"],
    [{ CHANNELS: " , " }, "CHANNELS must list at least one room name"],
    [{ ROOMS: "A,,B" }, "ROOMS has an empty room name"],
    [{ CHANNELS: "A,B,A" }, 'CHANNELS lists the room "A" twice'],
    [{ CHANNELS: "A", ROOMS: "B" }, "CHANNELS and ROOMS are both set and differ"],
  ])("refuses %j, naming the variable", (vars, message) => {
    expect(() => parseConfig(vars)).toThrow(ConfigError);
    expect(() => parseConfig(vars)).toThrow(message);
  });

  it("names every bad variable at once", () => {
    expect(() => parseConfig({ MAX_IMAGE_SIZE: "big", RULES: 3 })).toThrow(
      /RULES must be a string.*; MAX_IMAGE_SIZE must be a whole number/,
    );
  });

  it("overrides limits per room with ROOM_LIMITS, other rooms keeping the defaults", () => {
    const config = parseConfig({
      CHANNELS: "QGIS,Field and mobile",
      MAX_IMAGE_SIZE: "900",
      ROOM_LIMITS: JSON.stringify({ "Field and mobile": { max_image_size: 600, max_users: 200, rate_limit_per_second: 0.5 } }),
    });
    expect(limitsOf(config, "QGIS")).toBe(config.limits);
    expect(limitsOf(config, "Field and mobile")).toEqual({ ...config.limits, maxImageSize: 600, maxUsers: 200, rateLimitPerSecond: 0.5 });
    expect(config.limits.maxImageSize).toBe(900);
  });

  it.each([
    ["not JSON", "{", "ROOM_LIMITS must be JSON"],
    ["not an object of objects", "[1]", "ROOM_LIMITS must be a JSON object of room name -> {limit: value}"],
    ["an unknown room", '{"Nowhere": {"max_users": 5}}', 'ROOM_LIMITS names the room "Nowhere", which is not in the room list'],
    ["an unknown limit", '{"QGIS": {"max_cheese": 5}}', 'ROOM_LIMITS["QGIS"].max_cheese is not a limit (known: min_author_length'],
    ["a bad value", '{"QGIS": {"max_users": "many"}}', 'ROOM_LIMITS["QGIS"].max_users must be a whole number, got "many"'],
    ["a value under its floor", '{"QGIS": {"max_image_size": 0}}', 'ROOM_LIMITS["QGIS"].max_image_size must be at least 1, got 0'],
    [
      "bounds that cross",
      '{"QGIS": {"min_author_length": 40}}',
      'ROOM_LIMITS["QGIS"].min_author_length (40) must not be greater than max_author_length (32)',
    ],
  ])("refuses ROOM_LIMITS with %s, saying where", (_case, ROOM_LIMITS, message) => {
    expect(() => parseConfig({ ROOM_LIMITS })).toThrow(message);
  });

  it("treats an empty ADMIN_TOKEN as no token", () => {
    expect(parseConfig({ ADMIN_TOKEN: "  " }).adminToken).toBeUndefined();
  });
});

describe("a bad configuration, through the Worker", () => {
  const badEnv = { ...env, MAX_MESSAGE_LENGTH: "lots" } as Env;

  it.each(["/rooms", "/status", "/room/QGIS/users", "/channel/QGIS/last"])(
    "answers %s with a 500 JSON error naming the variable",
    async (path) => {
      const response = await worker.fetch(new Request(`http://gischat.test${path}`), badEnv);
      expect(response.status).toBe(500);
      expect(response.headers.get("Content-Type")).toBe("application/json");
      expect(await response.json()).toEqual({
        detail: 'Invalid server configuration: MAX_MESSAGE_LENGTH must be a whole number, got "lots".',
      });
    },
  );

  it("refuses WebSocket upgrades the same way", async () => {
    const request = new Request("http://gischat.test/room/QGIS/ws", { headers: { Upgrade: "websocket" } });
    const response = await worker.fetch(request, badEnv);
    expect(response.status).toBe(500);
    expect(response.webSocket).toBeNull();
  });
});

describe("moderation without ADMIN_TOKEN", () => {
  it("answers 403 saying moderation is disabled", async () => {
    const { ADMIN_TOKEN: _token, ...withoutToken } = env;
    const request = new Request("http://gischat.test/room/QGIS/last", { method: "DELETE", headers: { Authorization: "Bearer anything" } });
    const response = await worker.fetch(request, withoutToken as Env);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ detail: "Moderation is disabled on this server: no ADMIN_TOKEN secret is configured." });
  });
});
