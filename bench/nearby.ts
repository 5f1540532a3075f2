// "Who is near" in a busy room: `npm run bench:nearby` fills one room with N
// registered users (1,000 by default) who each share a position around Paris, then
// times GET …/nearby (a point, and around a user) and GET …/positions.
//
//   npm run bench:nearby -- [--users=1000] [--requests=200] [--direct]
import { runtimeBaseUrl } from "../tools/dev-processes.ts";
import { roomListed } from "../tools/dev-server.ts";
import { withServer } from "./bench-server.ts";
import { limitVars, UNLIMITED } from "./limits.ts";
import { type BenchSocket, OPEN, socketFactory } from "./room-client.ts";
import { BenchError, ms, now, printTable, runBench, summary } from "./util.ts";

const ROOM = "QGIS";
const OPEN_BATCH = 50;

interface Options {
  users: number;
  requests: number;
  direct: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { users: 1000, requests: 200, direct: false };
  for (const argument of argv) {
    const match = /^--(users|requests)=(\d+)$/.exec(argument);
    if (match) options[match[1] as "users" | "requests"] = Number(match[2]);
    else if (argument === "--direct") options.direct = true;
    else throw new BenchError(`Unknown argument ${argument}: use --users=N, --requests=N and --direct`);
  }
  return options;
}

/** A point within about 20 km of Notre-Dame, the same for the same index. */
function placeOf(index: number): [number, number] {
  const angle = index * 2.399963; // the golden angle: points spread evenly
  const distance = 0.18 * Math.sqrt((index + 1) / 1000);
  return [2.3499 + distance * Math.cos(angle) * 1.5, 48.853 + distance * Math.sin(angle)];
}

async function fillRoom(open: (url: string) => BenchSocket, url: string, users: number): Promise<BenchSocket[]> {
  const sockets: BenchSocket[] = [];
  for (let start = 0; start < users; start += OPEN_BATCH) {
    const batch = Array.from({ length: Math.min(OPEN_BATCH, users - start) }, (_, offset) => {
      const index = start + offset;
      const ws = open(url);
      sockets.push(ws);
      return new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => {
          const nickname = `walker_${index}`;
          const [x, y] = placeOf(index);
          ws.send(JSON.stringify({ type: "newcomer", newcomer: nickname }));
          ws.send(JSON.stringify({ type: "position", author: nickname, crs_wkt: "", crs_authid: "EPSG:4326", x, y }));
          resolve();
        });
        ws.addEventListener("close", (event) => reject(new BenchError(`a socket closed: ${event.code} ${event.reason}`)), { once: true });
      });
    });
    await Promise.all(batch);
  }
  return sockets;
}

async function timed(url: string, requests: number): Promise<{ times: number[]; bytes: number; body: unknown }> {
  const times: number[] = [];
  let last: unknown;
  let bytes = 0;
  for (let i = 0; i < requests; i++) {
    const started = now();
    const response = await fetch(url);
    const text = await response.text();
    times.push(now() - started);
    if (!response.ok) throw new BenchError(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
    bytes = text.length;
    last = JSON.parse(text);
  }
  return { times, bytes, body: last };
}

runBench(async () => {
  const options = parseOptions(process.argv.slice(2));
  const vars = limitVars({ maxUsers: UNLIMITED, rateLimitBurst: UNLIMITED, rateLimitPerSecond: UNLIMITED });
  await withServer({ name: "nearby", ready: roomListed(ROOM), vars, openFiles: 4 * options.users + 1000 }, async (server) => {
    const base = options.direct ? await runtimeBaseUrl(server) : server.baseUrl;
    const open = await socketFactory(false);
    const started = now();
    const sockets = await fillRoom(open, `${base.replace(/^http/, "ws")}/channel/${ROOM}/ws`, options.users);
    const positionsUrl = `${base}/channel/${ROOM}/positions`;
    for (const deadline = now() + 180_000; ; ) {
      const collection = (await (await fetch(positionsUrl)).json()) as { features: unknown[] };
      if (collection.features.length === options.users) break;
      if (now() > deadline) throw new BenchError(`Only ${collection.features.length} of ${options.users} positions after 3 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log(`${options.users} users with a position in ${((now() - started) / 1000).toFixed(1)} s; ${options.requests} requests each:`);
    const cases = [
      ["nearby a point, 2 km", `${base}/channel/${ROOM}/nearby?lon=2.3499&lat=48.853&radius_m=2000`],
      ["nearby a user, 5 km", `${base}/channel/${ROOM}/nearby?nickname=walker_0&radius_m=5000`],
      ["nearby a point, 50 km (everyone)", `${base}/channel/${ROOM}/nearby?lon=2.3499&lat=48.853&radius_m=50000`],
      ["positions (GeoJSON)", positionsUrl],
    ] as const;
    const rows = [];
    for (const [what, url] of cases) {
      const { times, bytes, body } = await timed(url, options.requests);
      const found = (body as { users?: unknown[]; features?: unknown[] }).users ?? (body as { features: unknown[] }).features;
      const s = summary(times);
      rows.push([what, found.length, `${(bytes / 1024).toFixed(1)} KiB`, ms(s.p50), ms(s.p90), ms(s.p99)]);
    }
    printTable(["request", "users", "body", "p50 ms", "p90 ms", "p99 ms"], rows, { firstLeft: true });
    for (const ws of sockets) if (ws.readyState === OPEN) ws.close(1000, "bench done");
  });
});
