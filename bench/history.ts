// History benchmark: a page of 100 messages from a room that holds 100,000, and the storage a
// room's history takes per 1,000 texts.
//
// It starts its own `wrangler dev` (fresh local state in a temporary directory) with the
// retention raised so that 100,000 texts are all kept (RETENTION_MAX_MESSAGES, _BYTES) and the
// rate limits lifted (the filler sends faster than a person), fills room "bench-history" with
// 100,000 texts from one registered WebSocket, WINDOW in flight (no test-only path: the texts go
// through the Worker, the room's validation, its fan-out and its SQLite like any; one socket
// rather than PUT …/text because wrangler dev's proxy takes ~7 ms per request here), and
// then times GET …/messages?limit=100: the newest page, a page from the middle of the history
// (before = an id 50,000 messages back) and the oldest page, each PAGE_RUNS times, one after
// the other.
//
// Storage: what ctx.storage.sql.databaseSize answers (page count x page size) for each room,
// read from its SQLite database in wrangler's local state with node:sqlite (read-only, the
// write-ahead log included; no code in the server for it): room "bench-1k" with 1 and then
// 1,001 texts, and the 100,000-text room; per 1,000 texts. Texts are like a chat's: 20 to 120
// characters.
//
//   npm run bench:history                 100,000 texts
//   npm run bench:history -- 20000        another number
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import { describeVars, limitVars, NO_RATE_LIMIT } from "./limits.ts";
import { BenchError, ms, printTable, runBench, seconds, summary } from "./util.ts";

const ROOM = "bench-history";
const SMALL_ROOM = "bench-1k";
/** Texts in flight on the filling socket. */
const WINDOW = 100;
const PAGE_RUNS = 50;
const TOTAL = Number(process.argv[2] ?? 100_000);

const VARS = {
  CHANNELS: `${ROOM},${SMALL_ROOM}`,
  ...NO_RATE_LIMIT,
  ...limitVars({ retentionMaxMessages: 1_000_000, retentionMaxBytes: 1_000_000_000 }),
};

const WORDS = [
  "layer",
  "QGIS",
  "the",
  "extent",
  "is",
  "shared",
  "projection",
  "EPSG:2154",
  "field",
  "survey",
  "ok",
  "thanks",
  "@all",
  "map",
];

function chatText(n: number): string {
  const words: string[] = [`#${n}`];
  const length = 20 + ((n * 7919) % 100);
  while (words.join(" ").length < length) words.push(WORDS[(n + words.length * 31) % WORDS.length]!);
  return words.join(" ").slice(0, length);
}

async function putText(baseUrl: string, room: string, n: number): Promise<string> {
  const response = await fetch(`${baseUrl}/channel/${room}/text`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: `bench_${n % 50}`, text: chatText(n) }),
  });
  if (response.status !== 200) throw new BenchError(`PUT text ${n}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/**
 * Posts texts 0..count-1 from one registered WebSocket, WINDOW in flight (each text's own echo
 * frees a place): the ids in order, as the channels family receives them.
 */
async function fill(baseUrl: string, room: string, count: number, progress: boolean): Promise<string[]> {
  const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/channel/${room}/ws`);
  const ids: string[] = [];
  let sent = 0;
  const started = performance.now();
  let reported = started;
  await new Promise<void>((resolve, reject) => {
    const sendMore = () => {
      while (sent < count && sent - ids.length < WINDOW) {
        ws.send(JSON.stringify({ type: "text", author: "bench_filler", text: chatText(sent) }));
        sent++;
      }
    };
    ws.addEventListener("error", () => reject(new BenchError(`the filling socket of ${room} failed`)));
    ws.addEventListener("close", (event) => {
      if (ids.length < count) reject(new BenchError(`the filling socket of ${room} closed (${event.code} ${event.reason})`));
    });
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; id: string; newcomer?: string; reason?: string };
      if (frame.type === "uncompliant") reject(new BenchError(`refused: ${frame.reason}`));
      if (frame.type === "newcomer") sendMore();
      if (frame.type !== "text") return;
      ids.push(frame.id);
      if (progress && performance.now() - reported > 10_000) {
        reported = performance.now();
        console.log(`  ${ids.length.toLocaleString("en")} texts after ${seconds(reported - started)}`);
      }
      if (ids.length === count) resolve();
      else sendMore();
    });
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "newcomer", newcomer: "bench_filler" })));
  });
  ws.close();
  return ids;
}

/** The room databases in wrangler's local state (their files). */
function databases(stateDir: string): Set<string> {
  const files = new Set<string>();
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".sqlite") && dir.endsWith("-Room")) files.add(file);
    }
  };
  walk(stateDir);
  return files;
}

/** The database that appeared since `before`. */
function newDatabase(stateDir: string, before: Set<string>): string {
  const created = [...databases(stateDir)].filter((file) => !before.has(file));
  if (created.length !== 1) throw new BenchError(`expected one new room database in ${stateDir}, found ${created.length}`);
  return created[0]!;
}

/**
 * What ctx.storage.sql.databaseSize answers for that room: its pages times the page size, read
 * (write-ahead log included) from the database file, and how many messages it holds.
 */
function databaseSize(file: string): { bytes: number; messages: number } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const pages = Number((db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
    const pageSize = Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
    const messages = Number((db.prepare("SELECT COUNT(*) AS count FROM messages").get() as { count: number }).count);
    return { bytes: pages * pageSize, messages };
  } finally {
    db.close();
  }
}

async function timePages(baseUrl: string, query: string): Promise<{ times: number[]; count: number; bytes: number }> {
  const times: number[] = [];
  let count = 0;
  let bytes = 0;
  for (let run = 0; run < PAGE_RUNS; run++) {
    const started = performance.now();
    const response = await fetch(`${baseUrl}/room/${ROOM}/messages?limit=100${query}`);
    const body = await response.text();
    times.push(performance.now() - started);
    if (response.status !== 200) throw new BenchError(`GET messages${query}: ${response.status} ${body}`);
    count = (JSON.parse(body) as { messages: unknown[] }).messages.length;
    bytes = body.length;
  }
  return { times, count, bytes };
}

async function main(): Promise<void> {
  console.log(`History bench: ${TOTAL.toLocaleString("en")} texts in one room, pages of 100; vars ${describeVars(VARS)}`);
  await withServer({ name: "history", vars: VARS, ready: roomListed(ROOM) }, async (server) => {
    const stateDir = path.join(server.workDir, "state");
    let known = databases(stateDir);
    await putText(server.baseUrl, SMALL_ROOM, -1);
    const smallDb = newDatabase(stateDir, known);
    const one = databaseSize(smallDb);
    await fill(server.baseUrl, SMALL_ROOM, 1_000, false);
    const thousand = databaseSize(smallDb);

    known = databases(stateDir);
    console.log(`Filling ${ROOM} with ${TOTAL.toLocaleString("en")} texts from one socket, ${WINDOW} in flight...`);
    const started = performance.now();
    const ids = await fill(server.baseUrl, ROOM, TOTAL, true);
    const fillMs = performance.now() - started;
    const full = databaseSize(newDatabase(stateDir, known));
    if (full.messages !== TOTAL) throw new BenchError(`the room holds ${full.messages} messages, not ${TOTAL}`);
    console.log(
      `Filled in ${seconds(fillMs)} (${Math.round(TOTAL / (fillMs / 1000)).toLocaleString("en")} texts/s); the room holds ${full.messages.toLocaleString("en")}\n`,
    );

    const pages = [
      ["newest page", ""],
      ["middle (before = id 50% back)", `&before=${ids[Math.floor(TOTAL / 2)]}`],
      ["oldest page (before = 101st)", `&before=${ids[100]}`],
    ] as const;
    const rows: string[][] = [];
    for (const [what, query] of pages) {
      const { times, count, bytes } = await timePages(server.baseUrl, query);
      const s = summary(times);
      rows.push([what, String(count), `${(bytes / 1024).toFixed(1)} KiB`, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)]);
    }
    console.log(
      `GET /room/${ROOM}/messages?limit=100, ${PAGE_RUNS} times each, from a room holding ${TOTAL.toLocaleString("en")} texts (ms):`,
    );
    printTable(["page", "messages", "body", "p50", "p90", "p99", "max"], rows, { firstLeft: true });

    console.log("\nStorage of the history (ctx.storage.sql.databaseSize: the room database's pages, the whole room included):");
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    printTable(
      ["room", "messages", "database", "per 1,000 texts"],
      [
        [SMALL_ROOM, one.messages.toLocaleString("en"), kib(one.bytes), "-"],
        [
          SMALL_ROOM,
          thousand.messages.toLocaleString("en"),
          kib(thousand.bytes),
          `${kib(((thousand.bytes - one.bytes) / (thousand.messages - one.messages)) * 1000)} (the 1,000 added)`,
        ],
        [
          ROOM,
          full.messages.toLocaleString("en"),
          `${(full.bytes / 1024 / 1024).toFixed(1)} MiB`,
          kib((full.bytes / full.messages) * 1000),
        ],
      ],
      { firstLeft: true },
    );
    reportServerComplaints(server);
  });
}

runBench(main);
