// Bench-only Worker, started by `npm run bench:flood -- --first-socket --floor` with
// `wrangler dev -c bench/flood-floor.wrangler.toml`: the floor under the room's flood path.
//
// One bare room, "QGIS", holding its sockets hibernating as the real room does, that does the
// least the contract allows with every frame: charged to its socket's token bucket (the room's
// own rate-limit.ts, kept in memory only), then broadcast as it came (no parsing, no validation,
// no storage), refused with a constant `uncompliant`, or, past the strikes, its socket closed
// with 1008; frames of a closed socket are dropped at once. What a flooder's burst still costs
// here is what workerd charges the room's thread for each frame it delivers. With the var
// FLOOR_STORE=true (--floor-store), it also stores every frame it broadcasts in SQLite, one
// INSERT each, as the room keeps every text: what storage adds under a burst.
import { DurableObject } from "cloudflare:workers";
import { type Bucket, charge, fullBucket, type RatePolicy } from "../src/room/rate-limit";

const ROOM = "QGIS";
/** The instance's defaults (src/wire/limits.ts) and the flood guard's strikes (src/room/flood-guard.ts). */
const POLICY: RatePolicy = { burst: 20, perSecond: 2, maxStrikes: 10 };
const TOO_FAST = JSON.stringify({ type: "uncompliant", reason: "You are sending messages too fast." });

interface FloorEnv {
  BARE_ROOM: DurableObjectNamespace<BareRoom>;
  FLOOR_STORE?: string;
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/rooms") return Response.json([ROOM]);
    if (pathname === `/room/${ROOM}/ws`) return env.BARE_ROOM.getByName(ROOM).fetch(request);
    return Response.json({ detail: "Not Found" }, { status: 404 });
  },
};

export class BareRoom extends DurableObject<FloorEnv> {
  private readonly buckets = new WeakMap<WebSocket, Bucket>();
  private readonly condemned = new WeakSet<WebSocket>();
  private readonly stores: boolean;

  constructor(ctx: DurableObjectState, env: FloorEnv) {
    super(ctx, env);
    this.stores = env.FLOOR_STORE === "true";
    if (this.stores) ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, frame TEXT NOT NULL)");
  }

  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    this.buckets.set(server, fullBucket(POLICY, Date.now()));
    const open = this.open();
    const count = JSON.stringify({ type: "nb_users", nb_users: open.length });
    for (const ws of open) ws.send(count);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    if (this.condemned.has(ws)) return;
    const verdict = charge(this.buckets.get(ws) ?? fullBucket(POLICY, Date.now()), 1, POLICY, Date.now());
    this.buckets.set(ws, verdict.bucket);
    if (verdict.kind === "allowed") {
      if (this.stores) this.ctx.storage.sql.exec("INSERT INTO messages (frame) VALUES (?)", String(frame));
      for (const other of this.open()) other.send(frame);
    } else if (verdict.kind === "refused") {
      ws.send(TOO_FAST);
    } else {
      this.condemned.add(ws);
      ws.close(1008, "Closed for flooding.");
    }
  }

  private open(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN && !this.condemned.has(ws));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }
}
