// The stall bench's listener processes (stall-listeners.ts), seen from the bench: a socket opened
// in one of them is a BenchSocket here whose message events carry `receivedAt`, the time the child
// received the frame (the same clock as this process's now(), checked by clockSpread()).
import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { BenchSocket } from "./room-client.ts";
import { clockOffset, type ListenerCommand, type ListenerEvent } from "./stall-listeners.ts";
import { BenchError, waitUntil } from "./util.ts";

type Listener = (event: never) => void;

const CHILD = path.join(import.meta.dirname, "stall-listeners.ts");

class RemoteSocket implements BenchSocket {
  readyState = 0;
  readonly bufferedAmount = 0;
  readonly extensions = "";
  readonly listeners = new Map<string, Listener[]>();

  private readonly child: ChildProcess;
  private readonly id: number;

  constructor(child: ChildProcess, id: number) {
    this.child = child;
    this.id = id;
  }

  send(data: string): void {
    this.command({ cmd: "send", id: this.id, data });
  }

  close(code = 1000, reason = ""): void {
    this.command({ cmd: "close", id: this.id, code, reason });
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  dispatch(type: string, event: object): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (event: object) => void)(event);
  }

  private command(command: ListenerCommand): void {
    if (this.child.connected) this.child.send(command);
  }
}

export interface ChildStats {
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  cpuMs: number;
}

export class ListenerPool {
  private readonly sockets = new Map<number, RemoteSocket>();
  private readonly offsets: number[] = [];
  private stats: ChildStats[] = [];
  private nextId = 0;
  private nextChild = 0;

  private readonly children: ChildProcess[];

  private constructor(children: ChildProcess[]) {
    this.children = children;
    for (const child of children) {
      child.on("message", (batch: ListenerEvent[]) => {
        for (const event of batch) this.onEvent(event);
      });
    }
  }

  static async start(count: number): Promise<ListenerPool> {
    const children = Array.from({ length: count }, () => fork(CHILD, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    const pool = new ListenerPool(children);
    await waitUntil(() => pool.offsets.length === count, { timeoutMs: 20_000, what: `Starting ${count} listener processes` });
    return pool;
  }

  /** Opens a socket in the next child (round robin). */
  open = (url: string): BenchSocket => {
    const child = this.children[this.nextChild++ % this.children.length]!;
    const id = this.nextId++;
    const socket = new RemoteSocket(child, id);
    this.sockets.set(id, socket);
    child.send({ cmd: "open", id, url } satisfies ListenerCommand);
    return socket;
  };

  /** The largest difference, in ms, between this process's clock and a child's (see stall-listeners.ts). */
  clockSpread(): number {
    const own = clockOffset();
    return Math.max(...this.offsets.map((offset) => Math.abs(offset - own)));
  }

  /** Each child's event-loop delay and CPU since the last reset; `reset` starts a new count. */
  async childStats(reset: boolean): Promise<ChildStats[]> {
    this.stats = [];
    for (const child of this.children) child.send({ cmd: "stats", reset } satisfies ListenerCommand);
    await waitUntil(() => this.stats.length === this.children.length, { timeoutMs: 10_000, what: "Listener processes' figures" });
    return this.stats;
  }

  stop(): void {
    for (const child of this.children) child.kill();
  }

  private onEvent(event: ListenerEvent): void {
    switch (event.ev) {
      case "clock":
        this.offsets.push(event.offset);
        return;
      case "stats":
        this.stats.push(event);
        return;
    }
    const socket = this.sockets.get(event.id);
    if (!socket) throw new BenchError(`A listener process reported socket ${event.id}, unknown here`);
    switch (event.ev) {
      case "open":
        socket.readyState = 1;
        return socket.dispatch("open", {});
      case "message":
        return socket.dispatch("message", { data: event.data, receivedAt: event.at });
      case "close":
        socket.readyState = 3;
        return socket.dispatch("close", { code: event.code, reason: event.reason });
      case "error":
        return socket.dispatch("error", { message: event.message });
    }
  }
}
