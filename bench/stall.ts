// Stall benchmark: does the room keep delivering text while it has an image resized?
//
// When a client sends an image, the room has it decoded, shrunk and re-encoded in
// WebAssembly (src/images/), on its own thread, in slices of a few milliseconds with a
// yield after each, so that text keeps flowing between them. This bench
// measures that against its own `wrangler dev` (fresh local state in a temporary
// directory), in room "QGIS":
//
//   - 20 listener sockets, a "chatter" and a "photographer", all registered;
//   - phase A (baseline, 10 s): the chatter sends a text every 25 ms (open loop: on the
//     clock, whatever happens; the text is "<seq>:<send time>"), and every listener
//     records latency = receive time - send time (one clock: see the listeners below);
//   - phase B (10 s and the last image): the same text stream while the photographer
//     sends a 4000x3000 (12 MP) photo-like JPEG, the next one 1 s after the previous
//     was sent but never before the photographer has received the previous one back
//     resized (so at most one image in flight); `--closed` sends the next one as soon
//     as the previous is back instead. Each image's end-to-end time is send ->
//     the photographer receives the broadcast resized PNG.
//
// It prints per phase the texts sent, deliveries received / expected, the text latency
// p50/p90/p99/max (and the p99 over phase A's, measured in the same run: the goal of
// issue 14 is at most 1.2x) and the share above 100 ms, and for phase B the image times; then
// details: texts sent while an image was in flight vs not; a GET /version every 100 ms
// in both phases (answered by the stateless Worker alone: if it stalls too, the whole
// thread is busy, not just the room); the longest silence at a listener; each image
// (and when the last listener had it); the bench's own event-loop delay (the client
// shares the CPUs and receives every resized image once per socket); the CPU time of
// wrangler's and workerd's threads per phase (from /proc, on Linux), which shows which
// thread does the image work and the room's work.
//
// The sockets are the `ws` package's with compression off, like the QGIS and QField
// clients (QWebSocket has no permessage-deflate). The listeners live in processes of their
// own (`--listener-procs=N`, default 2: stall-listeners.ts, listener-pool.ts), with lean
// sockets (lean-socket.ts: no UTF-8 validation, an image frame never made a string), and
// stamp each arrival with the same clock as the sender's (the wall clock at start plus
// CLOCK_MONOTONIC, checked at start): 20 listeners take in 26 MB per image, and in the
// measuring process that was what the bench measured (`--in-process`, the old client:
// every socket here, every frame a string). `--deflate` uses Node's own
// WebSocket instead (in this process), which always offers permessage-deflate, as browsers do: workerd
// accepts it and then compresses every frame for every socket, the ~1.7 MB resized
// image included, on the room's thread.
//
// `--direct` connects straight to the workerd that runs the Worker, bypassing wrangler's dev
// proxy (a hop production does not have). `--floor` then runs the same phases against
// bench/bare-room/, a Durable Object that sends every frame it receives to every socket, the
// photographer sending a frame as long as our resized image: the platform's floor for a room
// that delivers a 1.3 MB frame a second to 22 sockets beside its texts.
//
// The JPEG is the image bench's 4000x3000 photo (bench/picture-files.ts: drawn by
// tools/test-pictures.ts, encoded once with jSquash's encoder, a few seconds, and cached in
// the system's temporary directory).
//
//   npm run bench:stall
//   npm run bench:stall -- --closed        next image as soon as the previous is back
//   npm run bench:stall -- --listeners=50  another room size
//   npm run bench:stall -- --deflate       clients with WebSocket compression, like browsers
//   npm run bench:stall -- --direct --floor   no dev proxy; then the bare object, side by side
//   npm run bench:stall -- --in-process    the old client: the listeners in the measuring process
//   STALL_DUMP=/tmp/t.json npm run bench:stall   also write the raw timeline as JSON
import fs from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { readStat, runtimeBaseUrl, serverProcesses } from "../tools/dev-processes.ts";
import { answers, type DevServer, roomListed } from "../tools/dev-server.ts";
import { reportServerComplaints, withServer } from "./bench-server.ts";
import { BIG_FRAME, isBigFrame, leanSocketFactory } from "./lean-socket.ts";
import { DEFAULT_LIMITS, describeVars, NO_RATE_LIMIT } from "./limits.ts";
import { type ChildStats, ListenerPool } from "./listener-pool.ts";
import { type PictureSpec, pictureBytes, picturePath } from "./picture-files.ts";
import {
  abortReasonOf,
  type BaseRun,
  closeAll,
  describeClient,
  type FrameHandlers,
  joinAndRegister,
  type OpenSocket,
  onRoomFrame,
  type RegisteredClient,
  type RoomFrame,
  runState,
  sendTimedText,
  sentTextOf,
  socketFactory,
  type TimedText,
  watchSocket,
} from "./room-client.ts";
import {
  BenchError,
  messageOf,
  ms,
  now,
  percentile,
  printTable,
  runBench,
  type Summary,
  seconds,
  summary,
  waitForProgress,
  waitUntil,
  withTimeout,
} from "./util.ts";

const ROOM = "QGIS";
const CHATTER = "chatter";
const PHOTOGRAPHER = "photographer";
const DEFAULT_LISTENERS = 20;
const TEXT_INTERVAL_MS = 25;
const PHASE_MS = 10_000;
/** Paced image mode: the next image this long after the previous was sent (if it is back by then). */
const IMAGE_INTERVAL_MS = 1_000;
/** GET /version, the Worker-only probe, at most this often. */
const PROBE_INTERVAL_MS = 100;
/** A text delivery slower than this counts as delayed. */
const SLOW_MS = 100;

/** A 12 MP photo, the largest a phone sends (the pixel cap is 12.6 MP). */
const PHOTO: PictureSpec = { label: "4000x3000 photo JPEG", kind: "photo", width: 4000, height: 3000 };

const TIMEOUT_MS = {
  connect: 30_000,
  echo: 10_000,
  /** The first image also compiles the codecs in the server. */
  firstImage: 60_000,
  image: 30_000,
  /** Waiting for a phase's last text deliveries: give up after this long without a new one... */
  drainIdle: 5_000,
  /** ...or after this long in all. */
  drainTotal: 20_000,
  close: 15_000,
  probe: 10_000,
};

// ---------------------------------------------------------------------------
// Command line

interface Options {
  listeners: number;
  closed: boolean;
  deflate: boolean;
  /** Listener processes; 0: the listeners in this process, with the ws package's browser-like API (the old client). */
  listenerProcs: number;
  direct: boolean;
  floor: boolean;
}

const USAGE =
  "Usage: npm run bench:stall -- [--listeners=N] [--closed] [--deflate] [--listener-procs=N] [--in-process] [--direct] [--floor]";

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { listeners: DEFAULT_LISTENERS, closed: false, deflate: false, listenerProcs: 2, direct: false, floor: false };
  for (const arg of argv) {
    const count = /^--listeners=(\d+)$/.exec(arg);
    const procs = /^--listener-procs=(\d+)$/.exec(arg);
    if (count && Number(count[1]) > 0) options.listeners = Number(count[1]);
    else if (procs) options.listenerProcs = Number(procs[1]);
    else if (arg === "--in-process") options.listenerProcs = 0;
    else if (arg === "--closed") options.closed = true;
    else if (arg === "--deflate") options.deflate = true;
    else if (arg === "--direct") options.direct = true;
    else if (arg === "--floor") options.floor = true;
    else throw new BenchError(`Unknown argument ${JSON.stringify(arg)}. ${USAGE}`);
  }
  if (options.deflate) options.listenerProcs = 0;
  return options;
}

function describeImagePacing(closed: boolean): string {
  return closed
    ? "closed loop: the next image as soon as the photographer receives the previous one back"
    : `paced: the next image ${IMAGE_INTERVAL_MS} ms after the previous was sent, never before it is back (at most one in flight)`;
}

// ---------------------------------------------------------------------------
// CPU time of the server's threads (Linux /proc): who does the work, per phase

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

interface ThreadTicks {
  pid: number;
  tid: number;
  process: string;
  thread: string;
  ticks: number;
}

type ThreadSnapshot = Map<string, ThreadTicks>;

/** CPU ticks of every thread of every process in wrangler's process group, by "pid/tid". */
function threadSnapshot(server: DevServer): ThreadSnapshot {
  const threads: ThreadSnapshot = new Map();
  for (const { pid, name } of serverProcesses(server)) {
    try {
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const thread = readStat(`/proc/${pid}/task/${tid}/stat`);
        threads.set(`${pid}/${tid}`, { pid, tid: Number(tid), process: name, thread: thread.name, ticks: thread.ticks });
      }
    } catch {
      // The process or thread ended meanwhile.
    }
  }
  return threads;
}

function threadUsage(before: ThreadSnapshot, after: ThreadSnapshot): (ThreadTicks & { cpuMs: number })[] {
  const usage: (ThreadTicks & { cpuMs: number })[] = [];
  for (const [key, end] of after) {
    const startTicks = before.get(key)?.ticks ?? 0;
    const cpuMs = (end.ticks - startTicks) * CLOCK_TICK_MS;
    if (cpuMs > 0) usage.push({ ...end, cpuMs });
  }
  return usage.sort((a, b) => b.cpuMs - a.cpuMs);
}

// ---------------------------------------------------------------------------
// The room: listeners, a chatter, a photographer

type Role = "listener" | "chatter" | "photographer";

interface Client extends RegisteredClient {
  role: Role;
  lastSeq: number;
  images: number;
  outOfOrder: number;
  arrivals: { phase: number; receivedAt: number }[];
}

/** The phase a text was sent in (null: warm-up). */
interface Sent {
  phase: number | null;
}

interface ImageTrip {
  index: number;
  sentAt: number;
  receivedAt: number;
  e2e: number;
  length: number;
}

interface Phase {
  name: string;
  withImages: boolean;
  textsSent: number;
  sendLags: number[];
  deliveries: { sentAt: number; receivedAt: number; latency: number }[];
  images: ImageTrip[];
  /** GET /version answered by the stateless Worker: { sentAt, latency } (latency NaN: failed). */
  probes: { sentAt: number; latency: number }[];
  sendingDone: boolean;
  startedAt: number;
  endedAt: number;
  threadsBefore: ThreadSnapshot;
  threadsAfter: ThreadSnapshot;
  cpuBefore: NodeJS.CpuUsage;
  cpu: NodeJS.CpuUsage;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** The listener processes' own figures for the phase (none: the listeners are in this process). */
  children: ChildStats[];
}

interface Run extends BaseRun {
  listeners: number;
  closed: boolean;
  /** The bare rebroadcasting object (bench/bare-room/): no registration, the image frame sent back as it is. */
  bare: boolean;
  /** Where the sockets connect: wrangler's dev proxy, or its runtime workerd with --direct. */
  baseUrl: string;
  openSocket: OpenSocket;
  openListener: OpenSocket;
  /** The listeners' processes, if they are not in this one. */
  pool: ListenerPool | undefined;
  imageFrame: string;
  photoLength: number;
  clients: Client[];
  chatter: Client | null;
  photographer: Client | null;
  sent: Map<number, TimedText & Sent>;
  /** The phase whose deliveries are being recorded (null: warm-up). */
  phase: number | null;
  phases: Phase[];
  /** Resized images the photographer got back. */
  imagesBack: { receivedAt: number; length: number; frameLength: number; png: boolean }[];
  /** Image deliveries to listeners. */
  imageDeliveries: number;
  /** Per image (in sending order, warm-up first), when the last listener received it. */
  lastImageArrival: number[];
}

interface Target {
  server: DevServer;
  baseUrl: string;
  bare: boolean;
  openSocket: OpenSocket;
  openListener: OpenSocket;
  pool: ListenerPool | undefined;
}

function createRun(
  { server, baseUrl, bare, openSocket, openListener, pool }: Target,
  listeners: number,
  closed: boolean,
  imageFrame: string,
  photoLength: number,
): Run {
  return {
    server,
    listeners,
    closed,
    bare,
    baseUrl,
    openSocket,
    openListener,
    pool,
    imageFrame,
    photoLength,
    clients: [],
    chatter: null,
    photographer: null,
    sent: new Map(),
    phase: null,
    phases: [],
    imagesBack: [],
    imageDeliveries: 0,
    lastImageArrival: [],
    ...runState(),
  };
}

function connectClient(run: Run, name: string, role: Role): { client: Client; opened: Promise<void> } {
  const url = `${run.baseUrl.replace(/^http/, "ws")}/room/${ROOM}/ws`;
  const client: Client = {
    name,
    role,
    ws: role === "listener" ? run.openListener(url) : run.openSocket(url),
    nbUsers: 0,
    newcomers: new Set(),
    lastSeq: -1,
    images: 0,
    outOfOrder: 0,
    arrivals: [],
    closed: false,
  };
  const opened = watchSocket(run, client, `socket ${name}`, (data, receivedAt) => onFrame(run, client, data, receivedAt));
  return { client, opened };
}

const PNG_BASE64_SIGNATURE = "iVBORw0KGgo";
const IMAGE_DATA = '"image_data":"';

/** Frames this long are images: they are recognized from their start (lean sockets deliver only that: lean-socket.ts). */
function onFrame(run: Run, client: Client, data: unknown, receivedAt = now()): void {
  if (isBigFrame(data)) return onBigFrame(run, client, data.head, data.length, receivedAt);
  if (typeof data !== "string") {
    run.unexpected.push(`${client.name} received a binary frame`);
    return;
  }
  if (data.length >= BIG_FRAME) return onBigFrame(run, client, data.slice(0, 400), data.length, receivedAt);
  onRoomFrame(run, client, client.name, data, receivedAt, ON_FRAME);
}

function onBigFrame(run: Run, client: Client, head: string, length: number, receivedAt: number): void {
  const author = /"author":"([^"]*)"/.exec(head)?.[1];
  if (head.startsWith('{"type":"image"') && author !== undefined) return onImage(run, client, author, head, length, receivedAt);
  run.unexpected.push(`${client.name} received a frame of ${length} bytes: ${head.slice(0, 80)}`);
}

const ON_FRAME: FrameHandlers<Run, Client> = {
  newcomer(_run, client, name) {
    client.newcomers.add(name);
  },
  text: onText,
};

function onImage(run: Run, client: Client, author: string, head: string, length: number, receivedAt: number): void {
  if (author !== PHOTOGRAPHER) {
    run.replayed++;
    return;
  }
  if (client.role === "listener") {
    run.imageDeliveries++;
    // The n-th image a listener receives is the n-th one sent (one image in flight at a time).
    const index = client.images++;
    run.lastImageArrival[index] = Math.max(run.lastImageArrival[index] ?? 0, receivedAt);
  }
  if (client.role !== "photographer") return;
  const start = head.indexOf(IMAGE_DATA) + IMAGE_DATA.length;
  const png = head.startsWith(PNG_BASE64_SIGNATURE, start);
  if (!png) run.fatal ??= `the photographer's image came back, but not as a base64 PNG: ${head.slice(start, start + 40)}`;
  run.imagesBack.push({ receivedAt, length: length - start, frameLength: length, png });
}

function onText(run: Run, client: Client, message: RoomFrame, receivedAt: number): void {
  const sent = sentTextOf(run, message);
  if (sent === undefined) return;
  if (sent.seq <= client.lastSeq) client.outOfOrder++;
  client.lastSeq = Math.max(client.lastSeq, sent.seq);
  if (client.role !== "listener") return;
  sent.reached++;
  if (sent.phase === null) return;
  const phase = run.phases[sent.phase]!;
  phase.deliveries.push({ sentAt: sent.time, receivedAt, latency: receivedAt - sent.time });
  client.arrivals.push({ phase: sent.phase, receivedAt });
}

async function openRoom(run: Run): Promise<number> {
  const started = performance.now();
  const opening: Promise<void>[] = [];
  const add = (name: string, role: Role): Client => {
    const { client, opened } = connectClient(run, name, role);
    run.clients.push(client);
    opening.push(opened);
    return client;
  };
  for (let i = 1; i <= run.listeners; i++) add(`listener_${String(i).padStart(2, "0")}`, "listener");
  run.chatter = add(CHATTER, "chatter");
  run.photographer = add(PHOTOGRAPHER, "photographer");
  // The bare object knows no registration: its sockets only have to be open.
  if (run.bare) await withTimeout(Promise.all(opening), TIMEOUT_MS.connect, `Opening ${run.clients.length} WebSockets`);
  else await joinAndRegister(run, opening, { room: ROOM, timeoutMs: TIMEOUT_MS.connect });
  return performance.now() - started;
}

/** Sends one "<seq>:<send time>" text from the chatter, recorded with its phase (null: warm-up); returns its seq. */
function sendText(run: Run, phase: number | null): number {
  return sendTimedText(run, chatterOf(run).ws, CHATTER, { phase });
}

function chatterOf(run: Run): Client {
  if (!run.chatter) throw new BenchError("The chatter is not connected");
  return run.chatter;
}

function photographerOf(run: Run): Client {
  if (!run.photographer) throw new BenchError("The photographer is not connected");
  return run.photographer;
}

/** Sends the photo and waits for the photographer to receive it back resized. */
async function sendImage(run: Run, timeoutMs: number): Promise<ImageTrip> {
  const index = run.imagesBack.length;
  const sentAt = now();
  photographerOf(run).ws.send(run.imageFrame);
  await waitUntil(() => run.imagesBack.length > index, {
    timeoutMs,
    what: `Waiting for the photographer's image #${index + 1} to come back resized`,
    abortReason: abortReasonOf(run),
    pollMs: 1,
  });
  const back = run.imagesBack[index]!;
  return { index, sentAt, receivedAt: back.receivedAt, e2e: back.receivedAt - sentAt, length: back.length };
}

/** A few texts and one image before measuring: connections warm, the codecs compiled. */
async function warmUp(run: Run): Promise<ImageTrip> {
  for (let i = 0; i < 5; i++) {
    const seq = sendText(run, null);
    await waitUntil(() => run.sent.get(seq)?.reached === run.listeners, {
      timeoutMs: TIMEOUT_MS.echo,
      what: `Warm-up: waiting for text ${seq} to reach the ${run.listeners} listeners`,
      abortReason: abortReasonOf(run),
      pollMs: 1,
    });
  }
  const image = await sendImage(run, TIMEOUT_MS.firstImage);
  // The photographer may get it well before the last listener: wait until the room is quiet again.
  await waitUntil(() => run.imageDeliveries >= run.listeners, {
    timeoutMs: TIMEOUT_MS.image,
    what: () => `Warm-up: waiting for the image to reach the ${run.listeners} listeners (${run.imageDeliveries} so far)`,
    abortReason: abortReasonOf(run),
  });
  await sleep(500);
  return image;
}

const loopDelay = monitorEventLoopDelay({ resolution: 5 });

async function runPhase(run: Run, name: string, withImages: boolean): Promise<Phase> {
  const index = run.phases.length;
  const phase: Phase = {
    name,
    withImages,
    textsSent: 0,
    sendLags: [],
    deliveries: [],
    images: [],
    probes: [],
    sendingDone: false,
    startedAt: now(),
    endedAt: 0,
    threadsBefore: threadSnapshot(run.server),
    threadsAfter: new Map(),
    cpuBefore: process.cpuUsage(),
    cpu: { user: 0, system: 0 },
    loopDelayMaxMs: NaN,
    loopDelayP99Ms: NaN,
    children: [],
  };
  run.phases.push(phase);
  loopDelay.reset();
  await run.pool?.childStats(true);
  const images = withImages ? imageLoop(run, phase) : Promise.resolve();
  // Don't let a failed image loop go unnoticed while texts are still being sent.
  images.catch((error: unknown) => (run.fatal ??= messageOf(error)));
  const probes = probeLoop(run, phase);
  const start = phase.startedAt;
  for (let i = 0; i * TEXT_INTERVAL_MS < PHASE_MS; i++) {
    const scheduled = start + i * TEXT_INTERVAL_MS;
    const wait = scheduled - now();
    if (wait > 0) await sleep(wait);
    const reason = abortReasonOf(run)();
    if (reason) throw new BenchError(`Phase ${name}, sending text ${i + 1}: ${reason}`);
    sendText(run, index);
    phase.sendLags.push(now() - scheduled);
    phase.textsSent++;
  }
  phase.sendingDone = true;
  await withTimeout(images, TIMEOUT_MS.image + 5_000, `Phase ${name}: waiting for the last image`);
  await probes;
  await drain(run, phase);
  phase.endedAt = now();
  phase.threadsAfter = threadSnapshot(run.server);
  phase.cpu = process.cpuUsage(phase.cpuBefore);
  phase.loopDelayMaxMs = loopDelay.max / 1e6;
  phase.loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
  phase.children = (await run.pool?.childStats(false)) ?? [];
  return phase;
}

/** The photographer's images during phase B, paced or closed loop (see describeImagePacing). */
async function imageLoop(run: Run, phase: Phase): Promise<void> {
  const end = phase.startedAt + PHASE_MS;
  let next = phase.startedAt;
  for (;;) {
    const wait = next - now();
    if (wait > 0) await sleep(wait);
    if (now() >= end || run.fatal) return;
    const image = await sendImage(run, TIMEOUT_MS.image);
    phase.images.push(image);
    next = run.closed ? image.receivedAt : Math.max(image.sentAt + IMAGE_INTERVAL_MS, image.receivedAt);
  }
}

/**
 * Every PROBE_INTERVAL_MS (or when the previous answer comes, if later), GET /version: answered by
 * the stateless Worker alone, no Durable Object. If it stalls with the texts, the whole thread is busy.
 */
async function probeLoop(run: Run, phase: Phase): Promise<void> {
  let next = phase.startedAt;
  while (!phase.sendingDone && !run.fatal) {
    const wait = next - now();
    if (wait > 0) await sleep(wait);
    if (phase.sendingDone) return;
    const sentAt = now();
    next = sentAt + PROBE_INTERVAL_MS;
    try {
      const response = await fetch(`${run.server.baseUrl}/version`, { signal: AbortSignal.timeout(TIMEOUT_MS.probe) });
      await response.arrayBuffer();
      phase.probes.push({ sentAt, latency: response.ok ? now() - sentAt : NaN });
    } catch {
      phase.probes.push({ sentAt, latency: NaN });
    }
  }
}

/** Waits for the phase's deliveries; returns normally with some missing if they stop coming (they are reported). */
function drain(run: Run, phase: Phase): Promise<void> {
  return waitForProgress(() => phase.deliveries.length, phase.textsSent * run.listeners, {
    idleMs: TIMEOUT_MS.drainIdle,
    totalMs: TIMEOUT_MS.drainTotal,
    what: `Phase ${phase.name}, waiting for deliveries`,
    abortReason: abortReasonOf(run),
  });
}

function closeRoom(run: Run): Promise<void> {
  return closeAll(run, TIMEOUT_MS.close);
}

// ---------------------------------------------------------------------------
// Figures

function stats(values: readonly number[]): Summary & { slow: number } {
  const figures = summary(values);
  return { ...figures, slow: figures.count > 0 ? values.filter((v) => v > SLOW_MS).length / figures.count : NaN };
}

function percent(share: number): string {
  return Number.isNaN(share) ? "-" : `${(share * 100).toFixed(1)} %`;
}

/** Per listener, the longest time between two consecutive text deliveries of the phase. */
function longestSilences(run: Run, phaseIndex: number): number[] {
  return run.clients
    .filter((client) => client.role === "listener")
    .map((client) => {
      const times = client.arrivals.filter((a) => a.phase === phaseIndex).map((a) => a.receivedAt);
      let longest = 0;
      for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
      return longest;
    });
}

function inFlight(phase: Phase, time: number): boolean {
  return phase.images.some((image) => time >= image.sentAt && time <= image.receivedAt);
}

function printResults(run: Run): void {
  const header = [
    "phase",
    "texts sent",
    "deliveries / expected",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99 / A",
    "max ms",
    `> ${SLOW_MS} ms`,
    "images",
    "image p50 ms",
    "image max ms",
  ];
  const baselineP99 = stats(run.phases[0]?.deliveries.map((d) => d.latency) ?? []).p99;
  const rows = run.phases.map((phase) => {
    const text = stats(phase.deliveries.map((d) => d.latency));
    const image = stats(phase.images.map((i) => i.e2e));
    return [
      phase.name,
      String(phase.textsSent),
      `${phase.deliveries.length} / ${phase.textsSent * run.listeners}`,
      ms(text.p50),
      ms(text.p90),
      ms(text.p99),
      `${(text.p99 / baselineP99).toFixed(2)}x`,
      ms(text.max),
      percent(text.slow),
      phase.withImages ? String(image.count) : "-",
      phase.withImages ? ms(image.p50) : "-",
      phase.withImages ? ms(image.max) : "-",
    ];
  });
  console.log(
    `\nText latency at ${run.listeners} listeners (a text every ${TEXT_INTERVAL_MS} ms), image end-to-end time (send -> photographer receives it resized)`,
  );
  printTable(header, rows, { firstLeft: true });
}

function printDetails(run: Run, warm: ImageTrip): void {
  const loaded = run.phases[1];
  if (!loaded) throw new BenchError("Phase B did not run");
  console.log(
    `\nWarm-up image (first one: the server compiles the codecs): ${ms(warm.e2e)} ms end to end,` +
      ` ${ms((run.lastImageArrival[warm.index] ?? NaN) - warm.sentAt)} ms until the last listener had it.`,
  );

  const during = loaded.deliveries.filter((d) => inFlight(loaded, d.sentAt));
  const outside = loaded.deliveries.filter((d) => !inFlight(loaded, d.sentAt));
  const describe = (list: Phase["deliveries"]): string => {
    const s = stats(list.map((d) => d.latency));
    return `${s.count} deliveries, p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  max ${ms(s.max)} ms, ${percent(s.slow)} > ${SLOW_MS} ms`;
  };
  console.log(`\nPhase B, texts sent while an image was in flight: ${describe(during)}`);
  console.log(`Phase B, texts sent while no image was in flight: ${describe(outside)}`);

  for (const phase of run.phases) {
    const answered = phase.probes.filter((p) => !Number.isNaN(p.latency));
    const all = stats(answered.map((p) => p.latency));
    let line =
      `GET /version (stateless Worker, no Durable Object) in phase ${phase.name.split(" ")[0]}: ${answered.length} answered` +
      `${answered.length < phase.probes.length ? `, ${phase.probes.length - answered.length} FAILED` : ""},` +
      ` p50 ${ms(all.p50)}  max ${ms(all.max)} ms, ${percent(all.slow)} > ${SLOW_MS} ms`;
    if (phase.withImages) {
      const busy = stats(answered.filter((p) => inFlight(phase, p.sentAt)).map((p) => p.latency));
      line += `; sent while an image was in flight: ${busy.count}, p50 ${ms(busy.p50)}  max ${ms(busy.max)} ms`;
    }
    console.log(line);
  }
  for (const [index, phase] of run.phases.entries()) {
    const silences = longestSilences(run, index).sort((a, b) => a - b);
    console.log(
      `Longest silence at a listener in phase ${phase.name.split(" ")[0]} (longest gap between two text deliveries): ` +
        `median over listeners ${ms(percentile(silences, 50))} ms, worst ${ms(silences.at(-1) ?? NaN)} ms`,
    );
  }

  console.log(`\nPhase B images (${describeImagePacing(run.closed)}):`);
  console.log(
    "   #  sent at s  end-to-end ms  last listener has it ms  texts sent meanwhile  their max latency ms  their deliveries > 100 ms",
  );
  for (const [i, image] of loaded.images.entries()) {
    const texts = loaded.deliveries.filter((d) => d.sentAt >= image.sentAt && d.sentAt <= image.receivedAt);
    const s = stats(texts.map((d) => d.latency));
    console.log(
      `  ${String(i + 1).padStart(2)}  ${((image.sentAt - loaded.startedAt) / 1000).toFixed(2).padStart(9)}  ${ms(image.e2e).padStart(13)}` +
        `  ${ms((run.lastImageArrival[image.index] ?? NaN) - image.sentAt).padStart(23)}` +
        `  ${String(texts.length / run.listeners).padStart(20)}  ${ms(s.max).padStart(20)}  ${percent(s.slow).padStart(25)}`,
    );
  }
  const sizes = loaded.images.map((i) => i.length);
  if (sizes.length > 0) console.log(`  (each: ${run.photoLength} base64 chars of JPEG sent, ${sizes[0]} base64 chars of PNG back)`);

  console.log("\nThe bench itself (client: 2 CPUs shared with the server):");
  for (const phase of run.phases) {
    const lag = stats(phase.sendLags);
    const wall = phase.endedAt - phase.startedAt;
    const cpu = (phase.cpu.user + phase.cpu.system) / 1000;
    console.log(
      `  phase ${phase.name.split(" ")[0]}: event-loop delay p99 ${ms(phase.loopDelayP99Ms)} max ${ms(phase.loopDelayMaxMs)} ms;` +
        ` text send lag behind schedule p99 ${ms(lag.p99)} max ${ms(lag.max)} ms; CPU ${ms(cpu)} ms in ${seconds(wall)} (${percent(cpu / wall)})`,
    );
    for (const [i, child] of phase.children.entries())
      console.log(
        `    listener process ${i + 1}: event-loop delay p99 ${ms(child.loopDelayP99Ms)} max ${ms(child.loopDelayMaxMs)} ms; CPU ${ms(child.cpuMs)} ms`,
      );
  }

  if (run.phases[0]?.threadsAfter.size === 0) {
    console.log("\n(No /proc here: no per-thread CPU figures for the server.)");
    return;
  }
  console.log("\nServer CPU per thread (wrangler's process group, from /proc; threads above 1 % of the phase):");
  for (const phase of run.phases) {
    const wall = phase.endedAt - phase.startedAt;
    const usage = threadUsage(phase.threadsBefore, phase.threadsAfter);
    const total = usage.reduce((sum, t) => sum + t.cpuMs, 0);
    console.log(`  phase ${phase.name.split(" ")[0]} (${seconds(wall)}): ${ms(total)} ms CPU in all`);
    for (const t of usage.filter((t) => t.cpuMs / wall > 0.01).slice(0, 8)) {
      console.log(
        `    ${`${t.process}[${t.pid}]`.padEnd(18)} thread ${`"${t.thread}"`.padEnd(18)} tid ${String(t.tid).padEnd(8)}` +
          ` ${String(t.cpuMs).padStart(6)} ms  ${percent(t.cpuMs / wall).padStart(7)} of the phase`,
      );
    }
  }
  const processes = new Map<number, { name: string; threads: number }>();
  for (const t of loaded.threadsAfter.values())
    processes.set(t.pid, { name: t.process, threads: (processes.get(t.pid)?.threads ?? 0) + 1 });
  console.log(`  (threads per process: ${[...processes].map(([pid, { name, threads }]) => `${name}[${pid}] ${threads}`).join(", ")})`);
}

/**
 * `STALL_DUMP=<file>`: writes the raw timeline as JSON, times in ms since each phase's start:
 * every text (sent, and its first and last delivery to a listener) and every image (sent, back to the
 * photographer, at the last listener).
 */
function dumpTimeline(run: Run, file: string): void {
  const phases = run.phases.map((phase, index) => {
    const t = (time: number): number => Number((time - phase.startedAt).toFixed(1));
    const texts = [...run.sent.values()]
      .filter((sent) => sent.phase === index)
      .map((sent) => {
        const deliveries = phase.deliveries.filter((d) => d.sentAt === sent.time).map((d) => d.receivedAt);
        return { sent: t(sent.time), first: t(Math.min(...deliveries)), last: t(Math.max(...deliveries)) };
      });
    const probes = phase.probes.map((p) => ({ sent: t(p.sentAt), latency: Number(p.latency.toFixed(1)) }));
    const images = phase.images.map((image) => ({
      sent: t(image.sentAt),
      back: t(image.receivedAt),
      lastListener: t(run.lastImageArrival[image.index] ?? NaN),
    }));
    return { name: phase.name, texts, images, probes };
  });
  fs.writeFileSync(file, JSON.stringify({ listeners: run.listeners, closed: run.closed, phases }, null, 1));
  console.log(`\nTimeline written to ${file}`);
}

// ---------------------------------------------------------------------------
// Main: the server is always stopped, whatever happens (see withServer)

async function main(): Promise<void> {
  if (typeof WebSocket === "undefined") {
    throw new BenchError(`No global WebSocket in Node ${process.version}: run with Node 22 (npm run bench:stall).`);
  }
  const options = parseArgs(process.argv.slice(2));
  const { listenerProcs, direct, floor } = options;
  // The old client (--in-process, --deflate): every socket here, each frame a string; else lean sockets here
  // and the listeners in processes of their own, so that the bench does not measure its own client.
  const openSocket = listenerProcs === 0 ? await socketFactory(options.deflate) : await leanSocketFactory();
  // The server runs with the default MAX_IMAGE_RAW_LENGTH: a longer photo would only be refused.
  const photo = await pictureBytes(PHOTO, DEFAULT_LIMITS.maxImageRawLength);
  const photoBase64 = photo.bytes.toString("base64");
  console.log(
    `Photo: ${PHOTO.width}x${PHOTO.height} JPEG, ${photo.bytes.length} bytes, ${photoBase64.length} base64 chars` +
      `${photo.made ? "" : ` (cached: ${picturePath(PHOTO)})`}`,
  );
  const pool = listenerProcs > 0 ? await ListenerPool.start(listenerProcs) : undefined;
  const openListener = pool?.open ?? openSocket;
  console.log(
    pool
      ? `Listeners in ${listenerProcs} processes of their own (lean sockets: no UTF-8 validation, an image frame never made a string); ` +
          `their clocks agree with this one within ${pool.clockSpread().toFixed(3)} ms`
      : "Listeners in this process (the old client: every frame a string)",
  );
  const connect = async (server: DevServer, bare: boolean): Promise<Target> => {
    const baseUrl = direct ? await runtimeBaseUrl(server) : server.baseUrl;
    console.log(
      `Sockets to ${direct ? `the runtime workerd (${baseUrl}), bypassing wrangler's dev proxy` : `wrangler's dev proxy (${baseUrl})`}`,
    );
    return { server, baseUrl, bare, openSocket, openListener, pool };
  };
  try {
    loopDelay.enable();
    // The log is kept either way (it is small), the local state only on failure.
    // The chatter sends 40 texts a second: far over the default rate limit, which is not what this measures.
    const ours = await withServer({ name: "stall", ready: roomListed(ROOM), keepLog: true, vars: NO_RATE_LIMIT }, async (server) => {
      console.log(`Server vars: ${describeVars(NO_RATE_LIMIT)} (the chatter sends faster than the default rate limit allows)`);
      const imageFrame = JSON.stringify({ type: "image", author: PHOTOGRAPHER, avatar: null, image_data: photoBase64 });
      return measure(await connect(server, false), { ...options, imageFrame, photoLength: photoBase64.length });
    });
    if (!floor) return;
    const back = ours.imagesBack[0];
    if (!back) throw new BenchError("No image came back from our room");
    await withServer(
      { name: "stall-bare", config: "bench/bare-room/wrangler.toml", ready: answers("/"), keepLog: true },
      async (server) => {
        console.log(`\n=== The floor: bench/bare-room/, a Durable Object that sends every frame it receives to every socket ===`);
        const bare = await measure(await connect(server, true), {
          ...options,
          imageFrame: bareImageFrame(back.frameLength),
          photoLength: back.frameLength,
        });
        printFloor(ours, bare);
      },
    );
  } finally {
    loopDelay.disable();
    pool?.stop();
  }
}

/**
 * What the bare object's photographer sends: an image frame as long as the one our room broadcast (the
 * resized PNG), which it sends back as it is to every socket. Its content is filler: only its size and
 * its start (recognized as an image) matter.
 */
function bareImageFrame(length: number): string {
  const start = `{"type":"image","author":"${PHOTOGRAPHER}","avatar":null,"image_data":"${PNG_BASE64_SIGNATURE}`;
  const end = '"}';
  return start + "A".repeat(length - start.length - end.length) + end;
}

function printFloor(ours: Run, bare: Run): void {
  const p99 = (run: Run, phase: number): number => stats(run.phases[phase]?.deliveries.map((d) => d.latency) ?? []).p99;
  const [oursA, oursB, bareA, bareB] = [p99(ours, 0), p99(ours, 1), p99(bare, 0), p99(bare, 1)];
  console.log("\nSide by side, text p99 (ms): phase A (texts only), phase B (texts and an image frame a second)");
  printTable(
    ["server", "A p99", "B p99", "B / A"],
    [
      ["our room (12 MP JPEG in, resized PNG out)", ms(oursA), ms(oursB), `${(oursB / oursA).toFixed(2)}x`],
      [`bare object (a ${bare.photoLength}-char frame in, the same out)`, ms(bareA), ms(bareB), `${(bareB / bareA).toFixed(2)}x`],
    ],
    { firstLeft: true },
  );
  console.log(`ours B / bare B: ${(oursB / bareB).toFixed(2)}x`);
}

async function measure(target: Target, options: Options & { imageFrame: string; photoLength: number }): Promise<Run> {
  const { listeners, closed, deflate } = options;
  const run = createRun(target, listeners, closed, options.imageFrame, options.photoLength);
  const openMs = await openRoom(run);
  console.log(`${listeners} listeners + ${CHATTER} + ${PHOTOGRAPHER} connected${run.bare ? "" : " and registered"} in ${seconds(openMs)}`);
  console.log(
    `WebSocket client: ${describeClient(deflate)};` +
      ` extensions the server agreed to: ${JSON.stringify(chatterOf(run).ws.extensions || "none")}`,
  );
  const warm = await warmUp(run);
  console.log(`Warm-up done (first image back in ${ms(warm.e2e)} ms).`);

  console.log(`Phase A: baseline, a text every ${TEXT_INTERVAL_MS} ms for ${PHASE_MS / 1000} s...`);
  await runPhase(run, "A baseline", false);
  await sleep(500);
  console.log(`Phase B: the same texts, plus images (${describeImagePacing(closed)}) for ${PHASE_MS / 1000} s...`);
  await runPhase(run, "B with images", true);

  printResults(run);
  printDetails(run, warm);
  if (process.env.STALL_DUMP) dumpTimeline(run, `${process.env.STALL_DUMP}${run.bare ? ".bare" : ""}`);
  const problems: string[] = [];
  for (const phase of run.phases) {
    const expected = phase.textsSent * run.listeners;
    if (phase.deliveries.length < expected)
      problems.push(`phase ${phase.name}: ${expected - phase.deliveries.length} text deliveries missing`);
  }
  const failedProbes = run.phases.reduce((sum, phase) => sum + phase.probes.filter((p) => Number.isNaN(p.latency)).length, 0);
  if (failedProbes > 0) problems.push(`${failedProbes} GET /version probes failed`);
  const outOfOrder = run.clients.reduce((sum, client) => sum + client.outOfOrder, 0);
  if (outOfOrder > 0) problems.push(`${outOfOrder} text deliveries out of order or duplicated`);
  const images = run.imagesBack.length;
  if (run.phases[1]?.images.length === 0) problems.push("no image was processed in phase B");
  // Every image reaches every listener (the last ones may still be on their way).
  await waitUntil(() => run.imageDeliveries >= images * listeners, {
    timeoutMs: TIMEOUT_MS.echo,
    what: () => `Waiting for the ${images} images to reach every listener (${run.imageDeliveries} of ${images * listeners})`,
    abortReason: abortReasonOf(run),
  }).catch((error: unknown) => problems.push(messageOf(error)));
  if (run.replayed > 0) console.log(`(${run.replayed} frames from history or other authors ignored)`);
  for (const line of run.unexpected.slice(0, 5)) console.log(`! unexpected: ${line}`);
  reportServerComplaints(run.server);
  await closeRoom(run);
  if (problems.length > 0) throw new BenchError(problems.join("; "));
  return run;
}

runBench(main);
