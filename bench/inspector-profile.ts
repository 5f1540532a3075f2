// A CPU profile of the Worker's isolate (the Worker and its Durable Objects) under `wrangler dev`,
// taken through wrangler's inspector (the Chrome DevTools protocol's Profiler domain), and where its
// time went: self and total time per function, for bench/per-message.ts --profile.
import type { DevServer } from "../tools/dev-server.ts";
import type { BenchSocket } from "./room-client.ts";
import { BenchError, printTable, withTimeout } from "./util.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Samples every this many microseconds (V8's default is 1,000). */
const SAMPLING_INTERVAL_US = 100;

/** Starts profiling the Worker's isolate; the answer stops it and answers the profile. */
export async function startProfile(server: DevServer): Promise<() => Promise<CpuProfile>> {
  if (server.inspectorPort === undefined) throw new BenchError("The server has no inspector port");
  const targets = (await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json`)).json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((target) => target.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (url === undefined) throw new BenchError(`wrangler's inspector lists no target: ${JSON.stringify(targets)}`);
  // The ws package: wrangler's inspector refuses a client that sends a User-Agent (Node's own WebSocket does) without an Origin.
  const { WebSocket: WsWebSocket } = await import("ws");
  const socket = new WsWebSocket(url, { perMessageDeflate: false }) as unknown as BenchSocket;
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(undefined), { once: true });
      socket.addEventListener("close", () => reject(new BenchError(`Could not connect to the inspector at ${url}`)), { once: true });
    }),
    10_000,
    "Connecting to the inspector",
  );
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 1;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (message.id === undefined) return;
    if (message.error) throw new BenchError(`Inspector: ${message.error.message}`);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  const call = (method: string, params: object = {}): Promise<unknown> =>
    withTimeout(
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
      30_000,
      `Inspector: ${method}`,
    );
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await call("Profiler.start");
  return async () => {
    const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
    socket.close();
    return profile;
  };
}

/** A function's name as the profile shows it: natives (ws.send, serializeAttachment) have no url. */
function keyOf({ functionName, url, lineNumber }: CallFrame): string {
  const name = functionName || "(anonymous)";
  if (url === "") return name;
  return `${name} ${url.split("/").pop()}:${lineNumber + 1}`;
}

export interface ProfileSummary {
  /** Sampled ms, all of it but the isolate's idle time. */
  totalMs: number;
  /** ms per function key: its own time, and its time with what it called (counted once per stack). */
  self: Map<string, number>;
  total: Map<string, number>;
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    totalUs += us;
    const leafKey = keyOf(leaf.callFrame);
    self.set(leafKey, (self.get(leafKey) ?? 0) + us / 1000);
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const key = keyOf(byId.get(node)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + us / 1000);
    }
  }
  return { totalMs: totalUs / 1000, self, total };
}

/** The top functions by self time and by total time, as a share of the sampled time and per message. */
export function printProfile(name: string, summary: ProfileSummary, messages: number, top = 25, unit = "text"): void {
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, ms]) => [key, `${((ms / summary.totalMs) * 100).toFixed(1)} %`, `${((ms / messages) * 1000).toFixed(1)}`]);
  console.log(`\nCPU profile of ${name}'s isolate: ${summary.totalMs.toFixed(0)} ms busy over ${messages} ${unit}s`);
  console.log("\nBy self time");
  printTable(["function", "share", `µs per ${unit}`], rows(summary.self), { firstLeft: true });
  console.log("\nBy total time (with what it calls)");
  printTable(["function", "share", `µs per ${unit}`], rows(summary.total), { firstLeft: true });
}
