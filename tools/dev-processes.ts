// The processes of a running `wrangler dev` (Linux /proc): CPU time per process and thread,
// resident memory, open files, and the runtime workerd's own port behind wrangler's dev proxy.
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type DevServer, DevServerError } from "./dev-server.ts";

export interface Stat {
  name: string;
  pgrp: number;
  /** CPU ticks, user + system (100 a second on Linux). */
  ticks: number;
}

export interface ServerProcess {
  pid: number;
  name: string;
}

/** A /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) file: its name, process group and CPU ticks. */
export function readStat(file: string): Stat {
  const text = fs.readFileSync(file, "utf8");
  const close = text.lastIndexOf(")");
  const name = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" "); // fields[0] is field 3 (state)
  return { name, pgrp: Number(fields[2]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The processes of wrangler's process group (wrangler, workerd, esbuild); none without /proc. */
export function serverProcesses(server: DevServer): ServerProcess[] {
  if (!fs.existsSync("/proc/self/stat") || server.pid === undefined) return [];
  const processes: ServerProcess[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { name, pgrp } = readStat(`/proc/${entry}/stat`);
      if (pgrp === server.pid) processes.push({ pid: Number(entry), name });
    } catch {
      // The process ended meanwhile.
    }
  }
  return processes;
}

/**
 * The two workerd processes of `wrangler dev`: `runtime` runs the Worker and the room objects; `proxy` is
 * wrangler's dev proxy in front of it (it listens on the server's port; production has no such hop).
 */
export function workerdProcesses(server: DevServer): { runtime: ServerProcess | undefined; proxy: ServerProcess | undefined } {
  const workerd = serverProcesses(server).filter((p) => p.name === "workerd");
  const listensOnPort = (p: ServerProcess): boolean => {
    try {
      return fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${server.port}`);
    } catch {
      return false;
    }
  };
  return { runtime: workerd.find((p) => !listensOnPort(p)), proxy: workerd.find(listensOnPort) };
}

/** The inodes of a process's sockets (/proc/<pid>/fd). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

interface TcpSocket {
  local: number;
  remote: number;
  listening: boolean;
  inode: string;
}

/** IPv4 TCP sockets of the machine (/proc/net/tcp): local and remote ports, listening, inode. */
function tcpSockets(): TcpSocket[] {
  const port = (address: string | undefined): number => parseInt(address?.split(":")[1] ?? "", 16);
  return fs
    .readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9)
    .map(([, local, remote, state, , , , , , inode]) => ({
      local: port(local),
      remote: port(remote),
      listening: state === "0A",
      inode: inode ?? "",
    }));
}

/**
 * The runtime workerd's own entry, bypassing wrangler's dev proxy: among the ports the runtime
 * listens on (first those the proxy is connected to: the entry, and a Cap'n Proto port), the one that answers
 * the server's readiness check. Answers its base URL. A probe of the Cap'n Proto port makes workerd
 * log a complaint about an oversized RPC message: that one is the caller's doing, and is dropped.
 */
export async function runtimeBaseUrl(server: DevServer): Promise<string> {
  const { runtime, proxy } = workerdProcesses(server);
  if (!runtime || !proxy) throw new DevServerError("wrangler's two workerd processes not found (this needs Linux's /proc)");
  const [runtimeSockets, proxySockets, tcp] = [socketInodes(runtime.pid), socketInodes(proxy.pid), tcpSockets()];
  const proxyConnectsTo = new Set(tcp.filter((s) => !s.listening && proxySockets.has(s.inode)).map((s) => s.remote));
  // The proxy's idle connections to the entry may be closed already (a Worker asked only once, as the
  // bare room of bench/per-message.ts is): its other listening ports are tried after those.
  const listening = tcp.filter((s) => s.listening && runtimeSockets.has(s.inode)).map((s) => s.local);
  const candidates = [...listening.filter((port) => proxyConnectsTo.has(port)), ...listening.filter((port) => !proxyConnectsTo.has(port))];
  const complaintsBefore = server.complaints.length;
  let found: string | undefined;
  for (const port of candidates) {
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      const response = await fetch(`${baseUrl}${server.ready.path}`, { signal: AbortSignal.timeout(2_000) });
      if ((await server.ready.check(response)) === undefined) {
        found = baseUrl;
        break;
      }
    } catch {
      // Not the entry.
    }
  }
  await sleep(300);
  const probeNoise = /incoming RPC message exceeds size limit/;
  server.complaints.splice(
    complaintsBefore,
    Infinity,
    ...server.complaints.slice(complaintsBefore).filter((line) => !probeNoise.test(line)),
  );
  if (found === undefined) throw new DevServerError(`The workerd runtime's entry answers on none of ports ${candidates.join(", ")}`);
  return found;
}

/** A process's open file descriptors and its limit of them (soft), from /proc; NaN if unknown. */
export function openFilesOf(pid: number): { open: number; limit: number } {
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, "utf8"));
    return { open: fs.readdirSync(`/proc/${pid}/fd`).length, limit: limit ? Number(limit[1]) : NaN };
  } catch {
    return { open: NaN, limit: NaN };
  }
}

/** A memory field of /proc/<pid>/status (VmRSS, VmHWM...) in bytes; NaN if the process is gone. */
export function processMemory(pid: number, field = "VmRSS"): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}
