// The self-hosted server behind nginx, as the original gischat documents it (README, "Run behind
// a nginx proxy using HTTPS"): its upstream and location block, unchanged but for the ports (and
// plain HTTP: no certificate here), carry the WebSocket upgrade; with the one line the README adds
// (X-Forwarded-For), each client's own address reaches the flood guard, and a forged one does not.
// Clients come from different loopback addresses (127.0.0.2, 127.0.0.3) to be different clients.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSelfhost } from "../selfhost/build.ts";
import { joinByLink, launchBrowser, Session, sendText } from "./browser.ts";
import { flood, handshakeStatus, User } from "./room-socket.ts";
import { DevServer, freePort } from "./server.ts";

const NGINX = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
const ROOM = "e2e-nginx";
const FLOOD_ROOM = "e2e-nginx-flood";

/** gischat's location block, verbatim. */
const GISCHAT_LOCATION = `
      location / {
        proxy_pass http://gischat_upstream;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 86400;
      }`;

/** The README's one added line: the client's address, appended to what the client sent. */
const FORWARDED_FOR_LINE = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;";

function nginxConfig(dir: string, upstreamPort: number, plainPort: number, forwardingPort: number): string {
  const withForwardedFor = GISCHAT_LOCATION.replace(
    "proxy_read_timeout 86400;",
    `proxy_read_timeout 86400;\n        ${FORWARDED_FOR_LINE}`,
  );
  return `daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

    upstream gischat_upstream {
      server 127.0.0.1:${upstreamPort};
    }

    server {
      listen 127.0.0.1:${plainPort};
${GISCHAT_LOCATION}
    }

    server {
      listen 127.0.0.1:${forwardingPort};
${withForwardedFor}
    }
}
`;
}

/** Waits until nginx (started a moment ago) answers 200 through to the server. */
async function waitUntilAnswers(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 through nginx within ${timeoutMs / 1000} s (last: ${last})`);
}

let server: DevServer;
let nginx: ChildProcess;
let nginxDir: string;
let plainBase: string;
let forwardingBase: string;

beforeAll(async () => {
  if (!fs.existsSync(NGINX)) throw new Error(`No nginx at ${NGINX}: install it with "apt-get install -y nginx" (or set NGINX_PATH).`);
  await buildSelfhost();
  server = await DevServer.start([ROOM, FLOOD_ROOM], { RATE_LIMIT_BURST: "2", RATE_LIMIT_PER_SECOND: "0.01" }, { selfhost: true });
  nginxDir = fs.mkdtempSync(path.join(os.tmpdir(), "gischat-nginx-"));
  const plainPort = await freePort([server.port]);
  const forwardingPort = await freePort([server.port, plainPort]);
  const config = path.join(nginxDir, "nginx.conf");
  fs.writeFileSync(config, nginxConfig(nginxDir, server.port, plainPort, forwardingPort));
  execFileSync(NGINX, ["-t", "-q", "-c", config, "-p", nginxDir]);
  nginx = spawn(NGINX, ["-c", config, "-p", nginxDir], { stdio: "inherit" });
  plainBase = `http://127.0.0.1:${plainPort}`;
  forwardingBase = `http://127.0.0.1:${forwardingPort}`;
  for (const base of [plainBase, forwardingBase]) await waitUntilAnswers(`${base}/version`);
}, 180_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = once(nginx, "exit");
    // SIGTERM, nginx's fast shutdown: a graceful one (SIGQUIT) waits for the WebSockets' day-long read timeout.
    nginx.kill("SIGTERM");
    await exited;
  }
  await server?.stop();
  if (nginxDir) fs.rmSync(nginxDir, { recursive: true, force: true });
});

describe("behind gischat's nginx block", () => {
  it("carries the WebSocket upgrade unchanged: a registration and a text, both families", async () => {
    for (const family of ["room", "channel"] as const) {
      const alice = await User.open(plainBase, family, ROOM);
      const bob = await User.open(plainBase, family, ROOM);
      await alice.register(`alice_${family}`);
      await bob.register(`bob_${family}`);
      bob.send({ type: "text", author: `bob_${family}`, avatar: null, text: `through nginx on /${family}` });
      const text = await alice.waitFor((frame) => frame.type === "text" && frame.author === `bob_${family}`, "bob's text");
      expect(text).toMatchObject({ text: `through nginx on /${family}` });
      alice.close();
      bob.close();
    }
  });

  it("serves the browser client through it (its Host is nginx's upstream name), which connects and chats", async () => {
    const browser = await launchBrowser();
    try {
      const session = await Session.open(browser, plainBase);
      const qgis = await User.open(plainBase, "channel", ROOM);
      const page = await session.page();
      await joinByLink(page, ROOM, "browser_user");
      await sendText(page, "typed in Chromium, through nginx");
      const text = await qgis.waitFor((frame) => frame.type === "text" && frame.author === "browser_user", "the browser's text");
      expect(text).toMatchObject({ text: "typed in Chromium, through nginx" });
      expect(session.trouble).toEqual({ dialogs: [], cspViolations: [], pageErrors: [] });
      qgis.close();
      await session.close();
    } finally {
      await browser.close();
    }
  });

  it("with X-Forwarded-For, tells the flood guard each client's own address, and a forged one changes nothing", async () => {
    const flooder = { localAddress: "127.0.0.2" };
    const neighbour = { localAddress: "127.0.0.3" };
    await flood(forwardingBase, FLOOD_ROOM, flooder);
    expect(await handshakeStatus(forwardingBase, FLOOD_ROOM, flooder)).toBe(429);
    expect(await handshakeStatus(forwardingBase, FLOOD_ROOM, neighbour)).toBe(101);
    // The flooder claims to be someone else: nginx appends the address it saw, which is believed.
    expect(await handshakeStatus(forwardingBase, FLOOD_ROOM, { ...flooder, headers: { "X-Forwarded-For": "127.0.0.9" } })).toBe(429);
    // The neighbour claims to be the flooder: still the neighbour.
    expect(await handshakeStatus(forwardingBase, FLOOD_ROOM, { ...neighbour, headers: { "X-Forwarded-For": "127.0.0.2" } })).toBe(101);
  });
});
