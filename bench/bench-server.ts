// A bench's `wrangler dev` (tools/dev-server.ts): started, awaited, stopped on SIGINT or SIGTERM
// and always stopped at the end, its temporary directory removed or kept, its log's trouble reported.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DevServer, type DevServerOptions } from "../tools/dev-server.ts";

export interface BenchServerOptions extends DevServerOptions {
  /** Keep the log (not the local state) on success too, and print its path. */
  keepLog?: boolean;
}

/**
 * A whole bench against one server: starts it, stops it on SIGINT or SIGTERM, waits for it, runs
 * `body(server)`, and stops it whatever happens. On failure the server's problem (it exited, or
 * reloaded) is added to the error and its whole temporary directory is kept; on success the
 * directory goes, or with `keepLog` only the state, and the log's path is printed.
 */
export async function withServer<T>(
  { keepLog = false, ...options }: BenchServerOptions,
  body: (server: DevServer) => Promise<T>,
): Promise<T> {
  const server = await DevServer.create(options);
  await server.start();
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping the server (its log stays in ${server.logPath})`);
    void server.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);

  let failed = true;
  try {
    console.log(`Starting ${server.command} on port ${server.port} (log: ${server.logPath})`);
    await server.waitUntilReady();
    console.log(`Server ready. Node ${process.version}, ${os.availableParallelism()} CPUs shared by the bench and the server.`);
    const result = await body(server);
    failed = false;
    return result;
  } catch (error) {
    // A reload can be logged a moment after the sockets it closed were noticed: name the cause.
    const problem = server.problem();
    if (problem && error instanceof Error && !error.message.includes(problem)) error.message += `\n(${problem})`;
    throw error;
  } finally {
    await server.stop();
    cleanUp(server, failed, keepLog);
  }
}

/** After a run: on failure keep everything; on success keep the log with `keepLog`, else nothing. */
function cleanUp(server: DevServer, failed: boolean, keepLog: boolean): void {
  if (failed) console.error(`Wrangler's log is kept in ${server.logPath}`);
  else if (keepLog) {
    fs.rmSync(path.join(server.workDir, "state"), { recursive: true, force: true });
    console.log(`Wrangler's whole output: ${server.logPath}`);
  } else fs.rmSync(server.workDir, { recursive: true, force: true });
}

export function reportServerComplaints(server: DevServer): void {
  const { complaints } = server;
  if (complaints.length === 0) {
    console.log("\nWrangler's log: no errors or warnings (besides the offline Request.cf warning).");
    return;
  }
  console.log(`\nWrangler's log has ${complaints.length} lines that look like trouble, e.g.:`);
  for (const line of [...new Set(complaints)].slice(0, 10)) console.log(`  ${line}`);
}
