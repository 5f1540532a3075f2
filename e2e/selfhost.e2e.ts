// The self-hosted server end to end: the build of `npm run selfhost` (the bundle `wrangler deploy`
// ships, under workerd alone: no wrangler, no dev proxy) on a free port with a temporary DATA_DIR.
// What a user does (both families, a registration, a text, an image resized, the browser client),
// the alarm (a webhook delivery is sent in it), the client's address and who may name it, the
// data kept across a stop and a rebuilt bundle, and a bad variable answered as on Cloudflare.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSelfhost } from "../selfhost/build.ts";
import type { Manifest } from "../selfhost/manifest.ts";
import { BUILD_DIR, PROJECT_DIR } from "../selfhost/manifest.ts";
import { settingsFrom, staticFiles, variableBindings } from "../selfhost/workerd-config.ts";
import { WebhookReceiver } from "../tools/webhook-receiver.ts";
import { joinByLink, launchBrowser, Session, sendText } from "./browser.ts";
import { solidPng } from "./png.ts";
import { type Family, flood, handshakeStatus, pngSize, User } from "./room-socket.ts";
import { ADMIN_TOKEN, DevServer, freePort } from "./server.ts";

const ROOMS = { chat: "e2e-chat", history: "e2e-history", hooks: "e2e-hooks", client: "e2e-client" } as const;
const SECRET = "e2e-webhook-secret-0123456789";

/** Any answer at all: a server whose configuration is wrong answers every request with 500. */
const answersAnything = { path: "/version", what: "any answer to GET /version", check: async () => undefined };

let server: DevServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  await buildSelfhost();
  receiver = await WebhookReceiver.start(SECRET);
  server = await DevServer.start(Object.values(ROOMS), { WEBHOOK_ALLOW_HTTP_LOCAL: "true" }, { selfhost: true });
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

describe("the self-hosted server (workerd alone, on the build)", () => {
  it("answers the REST routes with wrangler.toml's defaults where the environment sets nothing", async () => {
    expect(await (await fetch(`${server.baseUrl}/rooms`)).json()).toEqual(Object.values(ROOMS));
    expect(await (await fetch(`${server.baseUrl}/channels`)).json()).toEqual(Object.values(ROOMS));
    const rules = (await (await fetch(`${server.baseUrl}/rules`)).json()) as Record<string, unknown>;
    expect(rules).toMatchObject({ rules: "YOLO", main_lang: "en", max_message_length: 255, max_image_size: 800, max_stored_messages: 5 });
  });

  it.each<Family>(["room", "channel"])("registers a newcomer and broadcasts a text on /%s/{name}/ws", async (family) => {
    const alice = await User.open(server.baseUrl, family, ROOMS.chat);
    const bob = await User.open(server.baseUrl, family, ROOMS.chat);
    await alice.register(`alice_${family}`);
    await bob.register(`bob_${family}`);
    bob.send({ type: "text", author: `bob_${family}`, avatar: null, text: `hello over /${family}` });
    // The room's replay may hold the other family's text first: the one looked for is bob's.
    const text = await alice.waitFor((frame) => frame.type === "text" && frame.author === `bob_${family}`, "bob's text");
    expect(text).toMatchObject({ type: "text", author: `bob_${family}`, text: `hello over /${family}` });
    alice.close();
    bob.close();
  });

  it("resizes an image in the image pipeline to MAX_IMAGE_SIZE", async () => {
    const photographer = await User.open(server.baseUrl, "room", ROOMS.chat);
    const viewer = await User.open(server.baseUrl, "room", ROOMS.chat);
    await photographer.register("photographer");
    photographer.send({ type: "image", author: "photographer", image_data: solidPng(1600, 1000, [40, 120, 200]).toString("base64") });
    const image = await viewer.waitFor((frame) => frame.type === "image", "the image", 20_000);
    expect(pngSize(String(image.image_data))).toEqual({ width: 800, height: 500 });
    photographer.close();
    viewer.close();
  });

  it("serves the client's files from disk with their Content-Type, and the two pages through the Worker with their CSP", async () => {
    const script = await fetch(`${server.baseUrl}/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toBe(fs.readFileSync(path.join(PROJECT_DIR, "build", "client", "app.js"), "utf8"));
    expect((await fetch(`${server.baseUrl}/app.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    for (const page of ["/", "/docs"]) {
      const response = await fetch(`${server.baseUrl}${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get("content-type"), page).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy"), page).toContain("default-src 'none'");
    }
    for (const file of staticFiles(path.join(PROJECT_DIR, "build", "client"))) {
      const response = await fetch(`${server.baseUrl}${file}`, { method: "HEAD" });
      expect(response.status, file).toBe(200);
      expect(response.headers.get("content-type"), file).not.toBe("application/octet-stream");
    }
    const missing = await fetch(`${server.baseUrl}/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not Found" });
  });

  it("rings the room's alarm: a webhook delivery (sent in the alarm) reaches a receiver", async () => {
    const registered = await fetch(`${server.baseUrl}/room/${ROOMS.hooks}/webhooks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ url: receiver.url("/gischat"), secret: SECRET }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const put = await fetch(`${server.baseUrl}/channel/${ROOMS.hooks}/text`, {
      method: "PUT",
      body: JSON.stringify({ author: "bot_selfhost", text: "delivered by the alarm" }),
    });
    expect(put.status).toBe(200);
    const [delivery] = await receiver.waitFor(1, 15_000);
    expect(delivery?.signatureValid).toBe(true);
    expect(JSON.parse(delivery?.body ?? "{}")).toMatchObject({ type: "text", author: "bot_selfhost", text: "delivered by the alarm" });
  });

  it("writes no secret into workerd's configuration: workerd reads them from its environment", () => {
    const config = fs.readFileSync(path.join(BUILD_DIR, "workerd.capnp"), "utf8");
    expect(config).toContain('fromEnvironment = "ADMIN_TOKEN"');
    expect(config).not.toContain(ADMIN_TOKEN);
  });

  describe("in Chromium", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("loads the browser client, connects, and its text reaches a QGIS user", async () => {
      const session = await Session.open(browser, server.baseUrl);
      try {
        const qgis = await User.open(server.baseUrl, "channel", ROOMS.client);
        const page = await session.page();
        await joinByLink(page, ROOMS.client, "browser_user");
        await sendText(page, "typed in Chromium");
        const text = await qgis.waitFor((frame) => frame.type === "text", "the browser's text");
        expect(text).toMatchObject({ author: "browser_user", text: "typed in Chromium" });
        expect(session.trouble).toEqual({ dialogs: [], cspViolations: [], pageErrors: [] });
        qgis.close();
      } finally {
        await session.close();
      }
    });
  });

  it("keeps history and bans across a stop, a backup restored and a rebuilt bundle", async () => {
    const writer = await User.open(server.baseUrl, "room", ROOMS.history);
    await writer.register("writer");
    for (const n of [1, 2, 3]) writer.send({ type: "text", author: "writer", avatar: null, text: `before the restart ${n}` });
    await writer.waitFor((frame) => frame.text === "before the restart 3", "the writer's own last text");
    writer.close();
    const ban = await fetch(`${server.baseUrl}/room/${ROOMS.history}/users/mallory?seconds=3600`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(ban.status, await ban.clone().text()).toBe(200);

    await server.stop();
    // The README's backup, with the server stopped: one archive of DATA_DIR. Restored into an
    // emptied DATA_DIR under a rebuilt bundle (an upgrade), it must be all the server needs.
    const backup = path.join(server.stateDir, "..", "backup.tar.gz");
    execFileSync("tar", ["-C", server.stateDir, "-czf", backup, "."]);
    fs.rmSync(server.stateDir, { recursive: true });
    fs.mkdirSync(server.stateDir);
    execFileSync("tar", ["-C", server.stateDir, "-xzf", backup]);
    await buildSelfhost();
    await server.restart();

    const reader = await User.open(server.baseUrl, "room", ROOMS.history);
    for (const n of [1, 2, 3]) await reader.waitFor((frame) => frame.text === `before the restart ${n}`, `replayed text ${n}`);
    reader.send({ type: "newcomer", newcomer: "mallory" });
    const refusal = await reader.waitFor((frame) => frame.type === "uncompliant", "mallory's refusal");
    expect(String(refusal.reason)).toMatch(/^The nickname 'mallory' is banned from this room by a moderator until /);
    reader.close();
  });
});

describe("the client's address (FORWARDED_ALLOW_IPS)", () => {
  const FLOOD_ROOM = "e2e-flood";
  const FLOOD_VARS = { RATE_LIMIT_BURST: "2", RATE_LIMIT_PER_SECOND: "0.01" };

  it("believes X-Forwarded-For from a trusted proxy (127.0.0.1 by default): one forwarded client is refused, another is not", async () => {
    const proxied = await DevServer.start([FLOOD_ROOM], FLOOD_VARS, { selfhost: true });
    try {
      await flood(proxied.baseUrl, FLOOD_ROOM, { headers: { "X-Forwarded-For": "198.51.100.7" } });
      expect(await handshakeStatus(proxied.baseUrl, FLOOD_ROOM, { headers: { "X-Forwarded-For": "198.51.100.7" } })).toBe(429);
      expect(await handshakeStatus(proxied.baseUrl, FLOOD_ROOM, { headers: { "X-Forwarded-For": "203.0.113.9" } })).toBe(101);
    } finally {
      await proxied.stop();
    }
  });

  it("ignores X-Forwarded-For and CF-Connecting-IP from a peer that is not a trusted proxy: forging them does not get a flooder back in", async () => {
    const direct = await DevServer.start([FLOOD_ROOM], { ...FLOOD_VARS, FORWARDED_ALLOW_IPS: "192.0.2.1" }, { selfhost: true });
    try {
      await flood(direct.baseUrl, FLOOD_ROOM, { headers: { "X-Forwarded-For": "198.51.100.7", "CF-Connecting-IP": "198.51.100.7" } });
      const forged = { "X-Forwarded-For": "203.0.113.9", "CF-Connecting-IP": "203.0.113.9" };
      expect(await handshakeStatus(direct.baseUrl, FLOOD_ROOM, { headers: forged })).toBe(429);
      expect(await handshakeStatus(direct.baseUrl, FLOOD_ROOM)).toBe(429);
    } finally {
      await direct.stop();
    }
  });
});

describe("stopping", () => {
  it.each<NodeJS.Signals>(["SIGTERM", "SIGINT"])("passes %s on to workerd, which stops; the launcher exits 0", async (signal) => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gischat-selfhost-stop-"));
    const launcher = spawn(process.execPath, [path.join(PROJECT_DIR, "selfhost", "start.ts")], {
      env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let output = "";
      launcher.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      await expect
        .poll(
          () =>
            fetch(`http://127.0.0.1:${port}/version`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 20_000 },
        )
        .toBe(200);
      expect(output).toContain(`listening on http://127.0.0.1:${port}/`);
      expect(output).toContain(`rooms' data (SQLite): ${dataDir}`);
      const exited = once(launcher, "exit");
      launcher.kill(signal);
      expect(await exited).toEqual([0, null]);
      await expect(fetch(`http://127.0.0.1:${port}/version`)).rejects.toThrow();
    } finally {
      launcher.kill("SIGKILL");
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("workerd's configuration", () => {
  // Read once the file's beforeAll has built it (a clean clone has no build at collection time).
  let manifest: Manifest;
  beforeAll(() => {
    manifest = JSON.parse(fs.readFileSync(path.join(BUILD_DIR, "manifest.json"), "utf8")) as Manifest;
  });

  it("has wrangler.toml's [vars] and every variable the Worker's configuration reads", () => {
    const wranglerToml = fs.readFileSync(path.join(PROJECT_DIR, "wrangler.toml"), "utf8");
    for (const [name, value] of Object.entries(manifest.vars)) expect(wranglerToml, name).toContain(`${name} = ${JSON.stringify(value)}`);
    expect(manifest.vars.RULES).toBe("YOLO");
    expect(manifest.variables).toEqual(expect.arrayContaining(["CHANNELS", "ROOMS", "ADMIN_TOKEN", "MATRIX_PING_TOKEN", "ROOM_LIMITS"]));
    expect(manifest.variables).toEqual(expect.arrayContaining(["MAX_MESSAGE_LENGTH", "POSITION_MAX_AGE_SECONDS"]));
  });

  it("takes a variable the environment sets from it, one it leaves unset from wrangler.toml, and ROOMS alone over CHANNELS' default", () => {
    const fake: Manifest = {
      ...manifest,
      vars: { CHANNELS: "QGIS,Geotribu", RULES: "YOLO" },
      variables: ["CHANNELS", "ROOMS", "RULES", "ADMIN_TOKEN"],
    };
    expect(variableBindings(fake, {})).toEqual(['(name = "CHANNELS", text = "QGIS,Geotribu")', '(name = "RULES", text = "YOLO")']);
    expect(variableBindings(fake, { RULES: "Be kind", ADMIN_TOKEN: "s3cret" })).toEqual([
      '(name = "CHANNELS", text = "QGIS,Geotribu")',
      '(name = "RULES", fromEnvironment = "RULES")',
      '(name = "ADMIN_TOKEN", fromEnvironment = "ADMIN_TOKEN")',
    ]);
    expect(variableBindings(fake, { ROOMS: "Field" })).toEqual([
      '(name = "ROOMS", fromEnvironment = "ROOMS")',
      '(name = "RULES", text = "YOLO")',
    ]);
    expect(variableBindings({ ...fake, vars: { RULES: 'say "hi"\n\\' } }, {})).toEqual(['(name = "RULES", text = "say \\"hi\\"\\n\\\\")']);
  });

  it("reads the server's own settings with gischat's defaults", () => {
    expect(settingsFrom({}, "/srv/chat")).toEqual({
      host: "0.0.0.0",
      port: 8000,
      dataDir: "/srv/chat/data",
      forwardedAllowIps: ["127.0.0.1", "::1"],
    });
    expect(settingsFrom({ HOST: "::", PORT: "9000", DATA_DIR: "/var/lib/gischat", FORWARDED_ALLOW_IPS: "10.0.0.0/8, *" }, "/srv")).toEqual({
      host: "::",
      port: 9000,
      dataDir: "/var/lib/gischat",
      forwardedAllowIps: ["10.0.0.0/8", "*"],
    });
  });
});

describe("a wrong setting", () => {
  it("answers every request with the same 500 JSON as on Cloudflare, naming the variable", async () => {
    const broken = await DevServer.start(["QGIS"], { MAX_MESSAGE_LENGTH: "abc" }, { selfhost: true, ready: answersAnything });
    try {
      const response = await fetch(`${broken.baseUrl}/rooms`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        detail: 'Invalid server configuration: MAX_MESSAGE_LENGTH must be a whole number, got "abc".',
      });
    } finally {
      await broken.stop();
    }
  });

  it.each([
    ["PORT", "abc", 'PORT must be a whole number from 1 to 65535, got "abc"'],
    ["HOST", "example.org", 'HOST must be an IP address to listen on (0.0.0.0, 127.0.0.1, ::), got "example.org"'],
    [
      "FORWARDED_ALLOW_IPS",
      "10.0.0.0/99",
      'FORWARDED_ALLOW_IPS must list IP addresses or CIDR ranges separated by commas (or "*"), got "10.0.0.0/99"',
    ],
  ])("refuses to start with %s=%s, saying why", (name, value, message) => {
    const result = spawnSync(process.execPath, [path.join(PROJECT_DIR, "selfhost", "start.ts")], {
      env: { ...process.env, [name]: value },
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`Error: ${message}`);
  });
});
