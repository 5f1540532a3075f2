// Bench-only Worker, started by bench/per-message.ts with `wrangler dev -c bench/bare-room/wrangler.toml`:
// the least a room can be on this platform, as the baseline our Room object is measured against.
// One Durable Object per room name accepts hibernating WebSockets (ctx.acceptWebSocket, as the
// Room does) and sends every frame it receives, as it came, to every socket of the room (the
// sender included, as the Room does). No registration, validation, history, attachment or count.
// A room whose name starts with "stored-" also inserts each frame into SQLite first (one row, one
// statement, before the sends, as the Room stores a message before fanning it out): the floor of a
// room that keeps a history. A write holds every send made after it behind the output gate until
// it is confirmed, and each gated send costs the platform more than an ungated one.
// A room whose name starts with "batched-" stores and sends the frames of a burst together, as
// the Room does (src/room/burst.ts): each frame is kept until the frames already arrived have
// all been taken (a setTimeout(0)), then they are inserted in one turn (one commit) and sent.
import { DurableObject } from "cloudflare:workers";

interface BareEnv {
  BARE_ROOM: DurableObjectNamespace<BareRoom>;
}

export class BareRoom extends DurableObject<BareEnv> {
  private readonly stores = this.ctx.id.name?.startsWith("stored-") ?? false;
  private readonly batches = this.ctx.id.name?.startsWith("batched-") ?? false;
  /** A batching room's frames not yet stored nor sent. */
  private staged: (string | ArrayBuffer)[] = [];

  constructor(ctx: DurableObjectState, env: BareEnv) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL)");
  }

  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(_ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    if (this.batches) return this.stage(frame);
    if (this.stores) this.ctx.storage.sql.exec("INSERT INTO frames (data) VALUES (?)", frame);
    this.sendToAll(frame);
  }

  private stage(frame: string | ArrayBuffer): void {
    if (this.staged.length === 0) setTimeout(() => this.flush(), 0);
    this.staged.push(frame);
  }

  private flush(): void {
    const frames = this.staged;
    this.staged = [];
    for (const frame of frames) this.ctx.storage.sql.exec("INSERT INTO frames (data) VALUES (?)", frame);
    for (const frame of frames) this.sendToAll(frame);
  }

  private sendToAll(frame: string | ArrayBuffer): void {
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(frame);
      } catch {
        // Closing: the next frame will not find it.
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }
}

export default {
  /** `/room/{name}/ws` upgrades to that room's object; anything else answers 200 (the bench's readiness check). */
  async fetch(request: Request, env: BareEnv): Promise<Response> {
    const room = /^\/room\/([^/]+)\/ws$/.exec(new URL(request.url).pathname)?.[1];
    if (room === undefined || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("bare room\n");
    return env.BARE_ROOM.get(env.BARE_ROOM.idFromName(decodeURIComponent(room))).fetch(request);
  },
} satisfies ExportedHandler<BareEnv>;
