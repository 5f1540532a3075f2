import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Storage is isolated per test file, not per test: each test takes a fresh room
// from this list (test/helpers.ts), so tests never see each other's history.
const TEST_ROOMS = ["QGIS", "Geotribu", "Field and mobile", ...Array.from({ length: 120 }, (_, i) => `room-${i}`)];

// Rooms with their own limits (ROOM_LIMITS): for test/limits.test.ts a room of three,
// and rooms where a socket may send 5 messages at once and one more every 5 s.
const LIMITED_ROOMS: Record<string, Record<string, number>> = {
  "small room": { max_users: 3 },
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`slow-${i}`, { rate_limit_burst: 5, rate_limit_per_second: 0.2 }])),
  // test/hostile.test.ts sends thousands of frames from one socket.
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`hostile-${i}`, { rate_limit_burst: 1_000_000, rate_limit_per_second: 1_000_000 }])),
};

const TEST_ADMIN_TOKEN = "test-admin-token";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CHANNELS: [...TEST_ROOMS, ...Object.keys(LIMITED_ROOMS)].join(","),
          ROOM_LIMITS: JSON.stringify(LIMITED_ROOMS),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
