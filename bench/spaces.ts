// What a private space costs a join: `npm run bench:spaces` opens sockets one after the
// other, alternating between a public room and a room of the same name in a space
// (/s/{key}/channel/QGIS/ws), and prints the time from the upgrade request to the
// socket's first frame (its nb_users) for each, side by side in one run.
//
//   npm run bench:spaces -- [--joins=300] [--direct]
//
// --direct: past wrangler's dev proxy, to the runtime's own port (as the other benches).
import { runtimeBaseUrl } from "../tools/dev-processes.ts";
import { roomListed } from "../tools/dev-server.ts";
import { withServer } from "./bench-server.ts";
import { type OpenSocket, socketFactory } from "./room-client.ts";
import { BenchError, ms, now, printTable, runBench, summary, withTimeout } from "./util.ts";

const ADMIN_TOKEN = "bench-admin-token";
const ROOM = "QGIS";
const JOIN_TIMEOUT_MS = 10_000;

interface Options {
  joins: number;
  direct: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { joins: 300, direct: false };
  for (const argument of argv) {
    const joins = /^--joins=(\d+)$/.exec(argument);
    if (joins) options.joins = Number(joins[1]);
    else if (argument === "--direct") options.direct = true;
    else throw new BenchError(`Unknown argument ${argument}: use --joins=N and --direct`);
  }
  return options;
}

/** Milliseconds from the upgrade request to the first frame the room sends. */
async function timeToFirstFrame(open: OpenSocket, url: string): Promise<number> {
  const started = now();
  const ws = open(url);
  const first = new Promise<number>((resolve, reject) => {
    ws.addEventListener("message", () => resolve(now() - started));
    ws.addEventListener("close", (event) => reject(new BenchError(`${url} closed before its first frame: ${event.code} ${event.reason}`)), {
      once: true,
    });
  });
  try {
    return await withTimeout(first, JOIN_TIMEOUT_MS, `the first frame on ${url}`);
  } finally {
    ws.close();
  }
}

async function createSpace(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/spaces`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ name: "bench", rooms: [ROOM] }),
  });
  if (response.status !== 201) throw new BenchError(`POST /spaces answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { path: string }).path;
}

runBench(async () => {
  const options = parseOptions(process.argv.slice(2));
  await withServer({ name: "spaces", ready: roomListed(ROOM), vars: { ADMIN_TOKEN } }, async (server) => {
    const httpBase = options.direct ? await runtimeBaseUrl(server) : server.baseUrl;
    const socketBase = httpBase.replace(/^http/, "ws");
    const space = await createSpace(httpBase);
    const open = await socketFactory(false);
    const urls = { public: `${socketBase}/channel/${ROOM}/ws`, space: `${socketBase}${space}/channel/${ROOM}/ws` };
    // Warm both paths (isolate, room objects, the Directory's answer in the Worker's cache).
    for (const url of Object.values(urls)) await timeToFirstFrame(open, url);
    const times: Record<keyof typeof urls, number[]> = { public: [], space: [] };
    for (let i = 0; i < options.joins; i++) {
      for (const where of ["public", "space"] as const) times[where].push(await timeToFirstFrame(open, urls[where]));
    }
    console.log(`${options.joins} joins each, alternating, ${options.direct ? "direct to the runtime" : "through wrangler's dev proxy"}:`);
    const rows = (["public", "space"] as const).map((where) => {
      const s = summary(times[where]);
      return [where === "public" ? "public room" : "room in a space", ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
    });
    printTable(["upgrade to first frame", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows, { firstLeft: true });
    const ratio = summary(times.space).p50 / summary(times.public).p50;
    console.log(`space / public, p50: ${ratio.toFixed(2)}x`);
  });
});
