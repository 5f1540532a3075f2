// A process of listener sockets for the stall bench (stall.ts forks it, `--listener-procs=N`): the
// listeners' work (taking in 1.3 MB per image per socket) off the process that sends and measures.
// It opens lean sockets (lean-socket.ts) on the parent's command and reports what they receive,
// each event stamped with this process's clock (util.ts now(): performance.timeOrigin + performance.now(),
// the wall clock at start plus CLOCK_MONOTONIC since, the same in every process up to the error of
// reading the two clocks at start, which the parent checks: see `clock`). Events are sent in one IPC
// message per turn of the event loop; a BigFrame (an image) travels as its head and length only.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { leanSocketFactory } from "./lean-socket.ts";
import type { BenchSocket } from "./room-client.ts";
import { now } from "./util.ts";

/** Commands from the parent. */
export type ListenerCommand =
  | { cmd: "open"; id: number; url: string }
  | { cmd: "send"; id: number; data: string }
  | { cmd: "close"; id: number; code: number; reason: string }
  | { cmd: "stats"; reset: boolean };

/** Events to the parent, `at` in now()'s milliseconds. */
export type ListenerEvent =
  | { ev: "open"; id: number }
  | { ev: "message"; id: number; data: unknown; at: number }
  | { ev: "close"; id: number; code: number; reason: string }
  | { ev: "error"; id: number; message: string }
  | { ev: "clock"; offset: number }
  | { ev: "stats"; loopDelayP99Ms: number; loopDelayMaxMs: number; cpuMs: number };

/** now() minus process.hrtime's CLOCK_MONOTONIC, in ms: the same in every process if their clocks agree. */
export function clockOffset(): number {
  return now() - Number(process.hrtime.bigint()) / 1e6;
}

async function main(): Promise<void> {
  const openSocket = await leanSocketFactory();
  const sockets = new Map<number, BenchSocket>();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let cpuBefore = process.cpuUsage();
  let pending: ListenerEvent[] = [];
  const post = (event: ListenerEvent): void => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(event);
  };
  const flush = (): void => {
    const batch = pending;
    pending = [];
    process.send?.(batch);
  };
  post({ ev: "clock", offset: clockOffset() });

  process.on("message", (command: ListenerCommand) => {
    switch (command.cmd) {
      case "open": {
        const { id } = command;
        const ws = openSocket(command.url);
        sockets.set(id, ws);
        ws.addEventListener("open", () => post({ ev: "open", id }));
        ws.addEventListener("message", (event) => post({ ev: "message", id, data: event.data, at: now() }));
        ws.addEventListener("close", ({ code, reason }) => post({ ev: "close", id, code, reason }));
        ws.addEventListener("error", ({ message }) => post({ ev: "error", id, message: message ?? "WebSocket error" }));
        return;
      }
      case "send":
        return sockets.get(command.id)?.send(command.data);
      case "close":
        return sockets.get(command.id)?.close(command.code, command.reason);
      case "stats": {
        const cpu = process.cpuUsage(cpuBefore);
        post({
          ev: "stats",
          loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          loopDelayMaxMs: loopDelay.max / 1e6,
          cpuMs: (cpu.user + cpu.system) / 1000,
        });
        if (command.reset) {
          loopDelay.reset();
          cpuBefore = process.cpuUsage();
        }
        return;
      }
    }
  });
  // The parent going away ends this process: no socket is left behind.
  process.on("disconnect", () => process.exit(0));
}

void main();
