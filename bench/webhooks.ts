// What a webhook costs the room: `npm run bench:webhooks` runs two rooms in one wrangler dev,
// one without a webhook and one with a webhook to a receiver on 127.0.0.1 (a node:http server
// that checks every signature, tools/webhook-receiver.ts), and measures each side by side:
//
//   - one text at a time: from the sender's send to the last of the listeners' receipt (p50..max);
//   - a burst of texts sent at once: texts per second until every listener has them all;
//   - for the webhook: from the send to the receiver's receipt, and whether every delivery came.
//
// The two rooms take turns, a round each (the webhook's deliveries finished before the other
// room's round starts), so that both see the same machine.
//
//   npm run bench:webhooks -- [--texts=200] [--burst=500] [--listeners=10] [--rounds=4] [--direct]
//
// --direct: past wrangler's dev proxy, to the runtime's own port (as the other benches).
import { runtimeBaseUrl } from "../tools/dev-processes.ts";
import { roomListed } from "../tools/dev-server.ts";
import { WebhookReceiver } from "../tools/webhook-receiver.ts";
import { withServer } from "./bench-server.ts";
import { limitVars } from "./limits.ts";
import { type BenchSocket, OPEN, type OpenSocket, socketFactory } from "./room-client.ts";
import { BenchError, ms, now, printTable, runBench, summary, waitUntil } from "./util.ts";

const ADMIN_TOKEN = "bench-admin-token";
const SECRET = "bench-webhook-secret-0123456789";
const ROOMS = { plain: "bench-no-webhook", hooked: "bench-one-webhook" } as const;
type Side = keyof typeof ROOMS;
const SIDES: readonly Side[] = ["plain", "hooked"];
const WAIT_MS = 30_000;

interface Options {
  texts: number;
  burst: number;
  listeners: number;
  rounds: number;
  direct: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { texts: 200, burst: 500, listeners: 10, rounds: 4, direct: false };
  for (const argument of argv) {
    const match = /^--(texts|burst|listeners|rounds)=(\d+)$/.exec(argument);
    if (match) options[match[1] as "texts" | "burst" | "listeners" | "rounds"] = Number(match[2]);
    else if (argument === "--direct") options.direct = true;
    else throw new BenchError(`Unknown argument ${argument}: use --texts=N, --burst=N, --listeners=N, --rounds=N and --direct`);
  }
  return options;
}

/** A room's sockets: a sender and listeners; each text's arrival time at each listener. */
interface RoomRun {
  room: string;
  sender: BenchSocket;
  listeners: BenchSocket[];
  /** text -> arrival times (one per listener). */
  arrivals: Map<string, number[]>;
}

async function openSocket(open: OpenSocket, url: string, onText: (text: string) => void): Promise<BenchSocket> {
  const ws = open(url);
  ws.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const frame = JSON.parse(event.data) as { type?: string; text?: string };
    if (frame.type === "text" && typeof frame.text === "string") onText(frame.text);
  });
  await waitUntil(() => ws.readyState === OPEN, { timeoutMs: WAIT_MS, what: `a socket to ${url}` });
  return ws;
}

async function joinRoom(open: OpenSocket, socketBase: string, room: string, listeners: number): Promise<RoomRun> {
  const arrivals = new Map<string, number[]>();
  const url = `${socketBase}/channel/${encodeURIComponent(room)}/ws`;
  const heard = (text: string) => {
    const list = arrivals.get(text);
    if (list) list.push(now());
  };
  const sockets = await Promise.all(Array.from({ length: listeners }, () => openSocket(open, url, heard)));
  const sender = await openSocket(open, url, () => {});
  return { room, sender, listeners: sockets, arrivals };
}

function send(run: RoomRun, text: string): number {
  run.arrivals.set(text, []);
  const sent = now();
  run.sender.send(JSON.stringify({ type: "text", author: "bench_sender", text }));
  return sent;
}

async function everyoneHas(run: RoomRun, texts: readonly string[]): Promise<void> {
  await waitUntil(() => texts.every((text) => (run.arrivals.get(text)?.length ?? 0) >= run.listeners.length), {
    timeoutMs: WAIT_MS,
    what: `${texts.length} texts at ${run.listeners.length} listeners in ${run.room}`,
    pollMs: 1,
  });
}

async function registerWebhook(httpBase: string, receiver: WebhookReceiver): Promise<void> {
  const response = await fetch(`${httpBase}/channel/${ROOMS.hooked}/webhooks`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ url: receiver.url(), secret: SECRET }),
  });
  if (response.status !== 201) throw new BenchError(`POST …/webhooks answered ${response.status}: ${await response.text()}`);
}

runBench(async () => {
  const options = parseOptions(process.argv.slice(2));
  const receiver = await WebhookReceiver.start(SECRET);
  const vars = {
    CHANNELS: Object.values(ROOMS).join(","),
    ADMIN_TOKEN,
    WEBHOOK_ALLOW_HTTP_LOCAL: "true",
    ...limitVars({ rateLimitBurst: 1_000_000, rateLimitPerSecond: 1_000_000 }),
  };
  try {
    await withServer({ name: "webhooks", ready: roomListed(ROOMS.hooked), vars }, async (server) => {
      const httpBase = options.direct ? await runtimeBaseUrl(server) : server.baseUrl;
      await registerWebhook(httpBase, receiver);
      const open = await socketFactory(false);
      const socketBase = httpBase.replace(/^http/, "ws");
      const runs = {
        plain: await joinRoom(open, socketBase, ROOMS.plain, options.listeners),
        hooked: await joinRoom(open, socketBase, ROOMS.hooked, options.listeners),
      };
      const latency: Record<Side, number[]> = { plain: [], hooked: [] };
      const burstRate: Record<Side, number[]> = { plain: [], hooked: [] };
      const deliveryLatency: number[] = [];
      /** Deliveries per second of a burst, from its first send to the receiver's last receipt. */
      const deliveryRate: number[] = [];
      /** text -> when it was sent, for the webhook's latency. */
      const sentAt = new Map<string, number>();
      let counter = 0;

      /** Waits until the receiver has everything the hooked room was sent so far. */
      const deliveriesDone = async () => {
        await receiver.waitFor(sentAt.size, WAIT_MS * 4);
      };

      for (let round = 0; round <= options.rounds; round++) {
        // Round 0 warms both rooms up (isolate, SQLite, the receiver's connection) and is not counted.
        const counted = round > 0;
        for (const side of SIDES) {
          const run = runs[side];
          const texts = counted ? options.texts : 20;
          for (let i = 0; i < texts; i++) {
            const text = `t${counter++}`;
            const sent = send(run, text);
            if (side === "hooked") sentAt.set(text, sent);
            await everyoneHas(run, [text]);
            if (counted) latency[side].push(Math.max(...(run.arrivals.get(text) ?? [])) - sent);
          }
          // The burst starts from an empty outbox: the one-at-a-time texts' deliveries are not held behind it.
          if (side === "hooked") await deliveriesDone();
          const burst = Array.from({ length: counted ? options.burst : 20 }, () => `b${counter++}`);
          const started = now();
          for (const text of burst) {
            const sent = send(run, text);
            if (side === "hooked") sentAt.set(text, sent);
          }
          await everyoneHas(run, burst);
          if (counted) burstRate[side].push((burst.length / (now() - started)) * 1000);
          if (side === "hooked") {
            await deliveriesDone();
            if (counted)
              deliveryRate.push((burst.length / (performance.timeOrigin + (receiver.received.at(-1)?.at ?? 0) - started)) * 1000);
          }
        }
      }

      for (const delivery of receiver.received) {
        const text = (JSON.parse(delivery.body) as { text: string }).text;
        const sent = sentAt.get(text);
        if (sent !== undefined && text.startsWith("t")) deliveryLatency.push(performance.timeOrigin + delivery.at - sent);
      }
      const invalid = receiver.received.filter((delivery) => !delivery.signatureValid).length;
      const distinct = new Set(receiver.received.map((delivery) => delivery.headers["x-gischat-delivery"])).size;

      console.log(
        `\n${options.rounds} rounds per room, each ${options.texts} texts one at a time then a burst of ${options.burst}, ` +
          `${options.listeners} listeners and the sender, ${options.direct ? "direct to the runtime" : "through wrangler's dev proxy"}:`,
      );
      const rows = SIDES.map((side) => {
        const s = summary(latency[side]);
        const rate = summary(burstRate[side]);
        return [side === "plain" ? "no webhook" : "1 webhook", ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), rate.p50.toFixed(0)];
      });
      printTable(["room", "p50 ms", "p90 ms", "p99 ms", "max ms", "burst texts/s (median)"], rows, { firstLeft: true });
      const p50 = (side: Side) => summary(latency[side]).p50;
      const rate = (side: Side) => summary(burstRate[side]).p50;
      console.log(
        `\n1 webhook vs none: p50 ${((p50("hooked") / p50("plain") - 1) * 100).toFixed(1)} %, ` +
          `burst rate ${((rate("hooked") / rate("plain") - 1) * 100).toFixed(1)} %`,
      );
      const d = summary(deliveryLatency);
      console.log(
        `Webhook, send to the receiver's receipt (texts sent one at a time): p50 ${ms(d.p50)} ms, p90 ${ms(d.p90)} ms, p99 ${ms(d.p99)} ms, max ${ms(d.max)} ms`,
      );
      console.log(
        `Webhook deliveries of a burst, to the receiver's last receipt: ${summary(deliveryRate).p50.toFixed(0)} per second (median)`,
      );
      console.log(
        `Deliveries: ${receiver.received.length} received for ${sentAt.size} texts, ${distinct} distinct delivery ids, ${invalid} with a bad signature.`,
      );
      if (invalid > 0 || distinct < sentAt.size) throw new BenchError("some deliveries were missing or badly signed");
      for (const run of Object.values(runs)) for (const ws of [run.sender, ...run.listeners]) ws.close();
    });
  } finally {
    await receiver.close();
  }
});
