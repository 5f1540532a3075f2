// Pillow doing upstream gischat's job in-process (bench/pillow.py), run side by side with
// our own figures in the same bench run, so that the ratio compares like with like on
// a shared machine. Needs Debian's python3 with python3-pil (`apt-get install
// python3-pil`); without it, the benches say so and print no ratio.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { PROJECT_DIR } from "../tools/dev-server.ts";
import { BenchError } from "./util.ts";

/** Debian's python3 (python3-pil is installed for it), not whichever python3 comes first on the PATH. */
const PYTHON = ["/usr/bin/python3", "python3"].find((candidate) => !candidate.includes("/") || fs.existsSync(candidate)) ?? "python3";

export interface PillowRun {
  ms: number;
  cpu: number;
  bytes: number;
  size: [number, number];
}

export class Pillow {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  readonly version: string;

  private constructor(child: ChildProcessWithoutNullStreams, lines: AsyncIterator<string>, version: string) {
    this.child = child;
    this.lines = lines;
    this.version = version;
  }

  /** Starts the Python side, or answers why it cannot run here. */
  static async start(): Promise<Pillow | string> {
    const child = spawn(PYTHON, [path.join(PROJECT_DIR, "bench", "pillow.py")], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await Promise.race([lines.next(), new Promise<"exit">((resolve) => child.once("exit", () => resolve("exit")))]);
    if (first === "exit" || first.done) {
      return `Pillow is not available (${PYTHON}: ${stderr.trim().split("\n").at(-1) ?? "no output"}); apt-get install python3-pil`;
    }
    const { pillow } = JSON.parse(first.value) as { pillow: string };
    return new Pillow(child, lines, pillow);
  }

  /** Upstream's job on this file's bytes (base64-encoded once, outside the timing). */
  async run(file: string): Promise<PillowRun> {
    this.child.stdin.write(`${file}\n`);
    const line = await this.lines.next();
    if (line.done) throw new BenchError("the Pillow process stopped");
    return JSON.parse(line.value) as PillowRun;
  }

  stop(): void {
    this.child.kill();
  }
}
