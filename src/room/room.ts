// One Durable Object per room. It holds the room's hibernating WebSockets, knows
// who registered which nickname (from the sockets' attachments, nowhere else),
// validates every frame, broadcasts, and keeps the recent messages in SQLite.
import { DurableObject } from "cloudflare:workers";
import { configOf, limitsOf, type Limits } from "../server/config";
import { Bans } from "./bans";
import { clientNetwork, floodRefusal } from "../server/client-network";
import { Flooders, type Standing } from "./flooders";
import { isGischat1Frame, parseGischat1 } from "../wire/gischat1";
import { History } from "./history";
import { Outgoing } from "./outgoing";
import { charge, costOf, fullBucket, type Bucket, type RatePolicy } from "./rate-limit";
import { migrate } from "./schema";
import { decodeFrame, isStorable, parseMessage, type ClientMessage, type ClientMessageOf, type Threading, type WireMessage } from "../wire/messages";
import { envelope, shape, type Dialect, type Envelope } from "../wire/envelope";
import { FAMILIES, parseSocketPath, type Family } from "../wire/families";

/** What the room must remember about a socket across hibernation: its attachment. */
interface SocketState {
  family: Family;
  room: string;
  nickname: string | null;
  /** Set once the socket's first 1.x frame showed it speaks gischat 1.x (QTribu 1.0): it then receives 1.x frames. */
  gischat1?: true;
  /** Its rate-limit budget, kept here so that hibernating does not refill it. */
  bucket: Bucket;
  /** The client's network (CF-Connecting-IP, or its /64 for IPv6), to remember a flooder by. */
  address: string | null;
  /** Closed by the room (flooding, ban): frames still in flight from it are dropped. */
  closing: boolean;
}

/** A message as one family receives it, for the REST answers. */
export type ShapedMessage = ReturnType<typeof shape>;

export type PostResult = { ok: true; message: ShapedMessage } | { ok: false; status: 403 | 409; detail: string };

export interface BanResult {
  nickname: string;
  /** ISO 8601, UTC. */
  banned_until: string;
  /** Sockets that held the nickname and were closed. */
  disconnected: number;
}

const NORMAL_CLOSURE = 1000;
const POLICY_VIOLATION = 1008;
const TRY_AGAIN_LATER = 1013;
/** Refusals for sending too fast, net of those forgiven over time, before a socket is closed. */
const FLOOD_STRIKES = 10;
/** How long connections from a flooder's address are refused before the upgrade... */
const FLOODER_REFUSAL_MS = 60_000;
/** ...and how long its sockets start with an empty budget. */
const FLOODER_COOLDOWN_MS = 10 * 60_000;
const WELCOME: Standing = { kind: "welcome" };
/** Close codes a peer may receive but no endpoint may send. */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);
const MAX_CLOSE_REASON_BYTES = 123;

export class Room extends DurableObject<Env> {
  private readonly history: History;
  private readonly bans: Bans;
  private readonly flooders: Flooders;
  /** Cache of the attachments, rebuilt from the sockets after every wake-up. */
  private readonly sockets = new Map<WebSocket, SocketState>();
  /** Sockets whose departure was already announced (close and error can both fire). */
  private readonly departed = new WeakSet<WebSocket>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage);
    this.history = new History(ctx.storage);
    this.bans = new Bans(ctx.storage);
    this.flooders = new Flooders(ctx.storage);
    for (const ws of ctx.getWebSockets()) this.stateOf(ws);
    // Clients' keepalives are answered by the platform without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** This room's limits: the instance's defaults with its ROOM_LIMITS overrides. */
  private get limits(): Limits {
    return limitsOf(configOf(this.env), this.ctx.id.name ?? "");
  }

  private get ratePolicy(): RatePolicy {
    const { rateLimitBurst: burst, rateLimitPerSecond: perSecond } = this.limits;
    return { burst, perSecond, maxStrikes: FLOOD_STRIKES };
  }

  // -------------------------------------------------------------------------
  // Connections

  /** Accepts a WebSocket upgrade forwarded untouched by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    const target = parseSocketPath(new URL(request.url).pathname);
    if (!target || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json({ detail: "Expected a WebSocket upgrade on /room/{name}/ws or /channel/{name}/ws" }, { status: 426 });
    }
    const address = clientNetwork(request);
    const standing = address === null ? WELCOME : this.flooders.standing(address, Date.now());
    if (standing.kind === "refused") return floodRefusal(FAMILIES[target.family].Noun, target.room, standing.until, Date.now());
    const { 0: client, 1: server } = new WebSocketPair();
    const { maxUsers } = this.limits;
    if (this.liveSockets().length >= maxUsers) {
      // Accepted only to be closed with a reason the client can show.
      server.accept();
      server.close(TRY_AGAIN_LATER, `${FAMILIES[target.family].Noun} '${target.room}' is full (${maxUsers} connected): try again later.`);
      return new Response(null, { status: 101, webSocket: client });
    }
    // Only ctx.acceptWebSocket lets the room hibernate with the socket open.
    this.ctx.acceptWebSocket(server);
    this.remember(server, { family: target.family, room: target.room, nickname: null, bucket: this.startingBucket(standing), address, closing: false });
    this.broadcast({ type: "nb_users", nb_users: this.liveSockets().length });
    this.replayHistory(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    // Frames a socket sent before the room closed it still arrive: they cost nothing more.
    if (this.departed.has(ws) || this.stateOf(ws).closing) return;
    // Charged before parsing, so that garbage costs too; pictures and layers pay the rest after.
    if (!this.withinRate(ws, 1)) return;
    const limits = this.limits;
    const decoded = decodeFrame(frame, limits);
    if (!decoded.ok) return this.reject(ws, decoded.reason);
    const gischat1 = this.speaksGischat1(ws, decoded.data);
    const parsed = gischat1 ? parseGischat1(decoded.data as object, limits) : parseMessage(decoded.data, limits);
    if (!parsed.ok) return this.reject(ws, parsed.reason);
    const rest = costOf(parsed.message.type) - 1;
    if (rest > 0 && !this.withinRate(ws, rest)) return;
    try {
      if (gischat1 && parsed.message.type === "text") this.publishGischat1(ws, parsed.message);
      else await this.handle(ws, parsed.message, parsed.threading);
    } catch (error) {
      console.error(JSON.stringify({ event: "message_failed", type: parsed.message.type, error: String(error) }));
      this.reject(ws, "The server could not process this message; nothing was sent. Please try again.");
    }
  }

  /**
   * Whether this frame is gischat 1.x (only on the rooms path). The first one marks its
   * socket as a 1.x client, which from then on receives 1.x frames, starting with the
   * count it could not read when it joined.
   */
  private speaksGischat1(ws: WebSocket, data: unknown): boolean {
    const state = this.stateOf(ws);
    if (state.family !== "rooms" || !isGischat1Frame(data)) return false;
    if (!state.gischat1) {
      this.remember(ws, { ...state, gischat1: true });
      this.sendTo([ws], new Outgoing(envelope({ type: "nb_users", nb_users: this.liveSockets().length })));
    }
    return true;
  }

  /** Charges a message to its socket's budget; refuses it, or closes a flooding socket. */
  private withinRate(ws: WebSocket, cost: number): boolean {
    const state = this.stateOf(ws);
    const verdict = charge(state.bucket, cost, this.ratePolicy, Date.now());
    this.remember(ws, { ...state, bucket: verdict.bucket });
    if (verdict.kind === "allowed") return true;
    if (verdict.kind === "refused") {
      this.reject(ws, `You are sending messages too fast: wait ${verdict.retryAfterSeconds} s before sending again (pictures and layers count more).`);
    } else {
      this.closeFlooder(ws);
    }
    return false;
  }

  /** A socket from an address that flooded recently starts with nothing to spend. */
  private startingBucket(standing: Standing): Bucket {
    const full = fullBucket(this.ratePolicy, Date.now());
    return standing.kind === "empty budget" ? { ...full, tokens: 0 } : full;
  }

  private closeFlooder(ws: WebSocket): void {
    const state = this.stateOf(ws);
    console.log(JSON.stringify({ event: "flooder_closed", room: state.room, nickname: state.nickname }));
    const now = Date.now();
    if (state.address !== null) {
      this.flooders.remember(state.address, { refusedUntil: now + FLOODER_REFUSAL_MS, emptyBudgetUntil: now + FLOODER_COOLDOWN_MS }, now);
    }
    this.closeByRoom(ws, POLICY_VIOLATION, "Closed for flooding: too many messages after warnings to slow down.");
  }

  /** Closes a socket on the room's initiative, and announces its departure. */
  private closeByRoom(ws: WebSocket, code: number, reason: string): void {
    this.remember(ws, { ...this.stateOf(ws), closing: true });
    try {
      ws.close(code, reason);
    } catch {
      // Already closing: its departure is announced all the same.
    }
    this.depart(ws);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string, _wasClean: boolean): Promise<void> {
    // A hibernated socket's close is only completed when we answer it.
    try {
      ws.close(RESERVED_CLOSE_CODES.has(code) ? NORMAL_CLOSURE : code, truncateUtf8(reason, MAX_CLOSE_REASON_BYTES));
    } catch {
      // Already closed: nothing to answer.
    }
    this.depart(ws);
  }

  override async webSocketError(ws: WebSocket, _error: unknown): Promise<void> {
    this.depart(ws);
  }

  /** Announces a closed socket's departure exactly once. */
  private depart(ws: WebSocket): void {
    if (this.departed.has(ws)) return;
    this.departed.add(ws);
    const state = this.stateOf(ws);
    this.sockets.delete(ws);
    if (state.nickname !== null) {
      // Also forgotten in the attachment, in case the room hibernates before the socket is gone.
      try {
        ws.serializeAttachment({ ...state, nickname: null });
      } catch {
        // The socket is already closed: its attachment goes with it.
      }
      this.broadcast({ type: "exiter", exiter: state.nickname });
    }
    this.broadcast({ type: "nb_users", nb_users: this.liveSockets().length });
  }

  // -------------------------------------------------------------------------
  // Messages

  private async handle(ws: WebSocket, message: ClientMessage, threading: Threading): Promise<void> {
    switch (message.type) {
      case "newcomer":
        return this.register(ws, message);
      case "exiter":
        return this.unregister(ws, message);
      case "like":
        return this.deliverLike(ws, message, threading);
      case "image":
        return this.publishImage(ws, message, threading);
      default:
        return this.publish(ws, message, threading);
    }
  }

  private register(ws: WebSocket, { newcomer }: ClientMessageOf<"newcomer">): void {
    const state = this.stateOf(ws);
    const banned = this.banReason(newcomer);
    if (banned !== undefined) return this.reject(ws, banned);
    if (this.holderOf(newcomer) !== undefined) {
      return this.reject(ws, `User '${newcomer}' already registered in ${FAMILIES[state.family].noun} ${state.room}`);
    }
    this.takeNickname(ws, newcomer);
  }

  /** Registers the socket under `nickname`, giving up the one it held: announced to everyone. */
  private takeNickname(ws: WebSocket, nickname: string): void {
    const state = this.stateOf(ws);
    const previous = state.nickname;
    this.remember(ws, { ...state, nickname });
    if (previous !== null) this.broadcast({ type: "exiter", exiter: previous });
    this.broadcast({ type: "newcomer", newcomer: nickname });
  }

  /**
   * A 1.x client never registers: the nickname it posts under becomes its own, so that
   * the others see it arrive and leave like anyone else, and nobody else can post as it.
   */
  private publishGischat1(ws: WebSocket, text: ClientMessageOf<"text">): void {
    const refusal = this.authorRefusal(text.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    if (this.stateOf(ws).nickname !== text.author) this.takeNickname(ws, text.author);
    this.broadcastAndStore(text);
  }

  private unregister(ws: WebSocket, { exiter }: ClientMessageOf<"exiter">): void {
    const state = this.stateOf(ws);
    if (state.nickname !== exiter) {
      const holding = state.nickname === null ? "this connection has no registered nickname" : `this connection is registered as '${state.nickname}'`;
      return this.reject(ws, `You can only announce your own exit: ${holding}, not '${exiter}'.`);
    }
    this.remember(ws, { ...state, nickname: null });
    this.broadcast({ type: "exiter", exiter });
  }

  private deliverLike(ws: WebSocket, like: ClientMessageOf<"like">, threading: Threading): void {
    const refusal = this.authorRefusal(like.liker_author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    const recipients = this.liveSockets().filter((socket) => this.stateOf(socket).nickname === like.liked_author);
    // Nobody holds the liked nickname: the like is dropped silently, as the contract says.
    this.sendTo(recipients, new Outgoing(envelope(like, { id: threading.clientId })));
  }

  private publish(ws: WebSocket, message: Exclude<ClientMessage, { type: "newcomer" | "exiter" | "like" }>, threading: Threading): void {
    const refusal = this.authorRefusal(message.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    this.broadcastAndStore(message, threading);
  }

  /**
   * Resized in the ImagePipeline entrypoint: the room only awaits the call, so
   * other messages keep flowing meanwhile, and the image appears when it is ready.
   */
  private async publishImage(ws: WebSocket, image: ClientMessageOf<"image">, threading: Threading): Promise<void> {
    const refusal = this.authorRefusal(image.author, ws);
    if (refusal !== undefined) return this.reject(ws, refusal);
    const { maxImageSize, maxImageRawLength, maxImagePixels } = this.limits;
    const result = await this.ctx.exports.ImagePipeline.shrink(image.image_data, { maxImageSize, maxImageRawLength, maxImagePixels });
    if (!result.ok) return this.reject(ws, result.reason);
    this.broadcastAndStore({ ...image, image_data: result.imageData }, threading);
  }

  private broadcastAndStore(message: WireMessage, threading: Threading = {}): Envelope {
    const stamped = envelope(message, { id: this.idFor(threading.clientId), inReplyTo: threading.inReplyTo });
    // Stored first: a message someone saw is a message a newcomer can replay.
    if (isStorable(message)) this.history.append(stamped, this.limits.maxStoredMessages);
    this.sendTo(this.liveSockets(), new Outgoing(stamped));
    return stamped;
  }

  /**
   * The client's own id when no stored message has it (QChat stamps its messages, as
   * the original server kept): replies can then name a message as its sender knows it.
   */
  private idFor(clientId: string | undefined): string | undefined {
    return clientId !== undefined && !this.history.has(clientId) ? clientId : undefined;
  }

  private reject(ws: WebSocket, reason: string): void {
    this.sendTo([ws], new Outgoing(envelope({ type: "uncompliant", reason })));
  }

  /** Why `ws` may not post as `nickname`: banned, or registered by another socket. */
  private authorRefusal(nickname: string, ws: WebSocket): string | undefined {
    const banned = this.banReason(nickname);
    if (banned !== undefined) return banned;
    const holder = this.holderOf(nickname);
    if (holder !== undefined && holder !== ws) {
      return `The nickname '${nickname}' is registered by another user in this room: post under your own nickname.`;
    }
    return undefined;
  }

  private banReason(nickname: string): string | undefined {
    const until = this.bans.bannedUntil(nickname, Date.now());
    if (until === undefined) return undefined;
    return `The nickname '${nickname}' is banned from this room by a moderator until ${new Date(until).toISOString()}.`;
  }

  private replayHistory(ws: WebSocket): void {
    for (const stored of this.history.recent(this.limits.maxStoredMessages)) {
      this.sendTo([ws], new Outgoing(stored));
    }
  }

  // -------------------------------------------------------------------------
  // RPC for the Worker's REST routes

  connectedCount(): number {
    return this.liveSockets().length;
  }

  registeredUsers(): string[] {
    const nicknames = this.liveSockets().flatMap((ws) => this.stateOf(ws).nickname ?? []);
    return nicknames.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()) || a.localeCompare(b));
  }

  recentMessages(family: Family): ShapedMessage[] {
    return this.history.recent(this.limits.maxStoredMessages).map((stored) => shape(stored, family));
  }

  /** `PUT …/text`: the message was validated by the Worker; the author rule needs the room. */
  postText(family: Family, message: ClientMessageOf<"text">, threading: Threading = {}): PostResult {
    const banned = this.banReason(message.author);
    if (banned !== undefined) return { ok: false, status: 403, detail: banned };
    if (this.holderOf(message.author) !== undefined) {
      return { ok: false, status: 409, detail: `The nickname '${message.author}' is registered by a connected user: post under another nickname.` };
    }
    return { ok: true, message: shape(this.broadcastAndStore(message, threading), family) };
  }

  clearHistory(): void {
    this.history.clear();
    logModeration({ room: this.ctx.id.name, action: "clear_history" });
  }

  /** Closes the nickname's sockets, announces its exit, and refuses it here until the ban ends. */
  async ban(nickname: string, seconds: number): Promise<BanResult> {
    const until = this.bans.add(nickname, Date.now() + seconds * 1000);
    await this.scheduleBanCleanup();
    const holders = this.liveSockets().filter((ws) => this.stateOf(ws).nickname === nickname);
    const minutes = Math.ceil((until - Date.now()) / 60_000);
    for (const ws of holders) this.closeByRoom(ws, POLICY_VIOLATION, `Banned from this room by a moderator for ${minutes} min.`);
    const bannedUntil = new Date(until).toISOString();
    logModeration({ room: this.ctx.id.name, action: "ban", target: nickname, until: bannedUntil, disconnected: holders.length });
    return { nickname, banned_until: bannedUntil, disconnected: holders.length };
  }

  /** The alarm exists only while a ban does: it deletes expired bans and waits for the next. */
  override async alarm(): Promise<void> {
    this.bans.removeExpired(Date.now());
    await this.scheduleBanCleanup();
  }

  private async scheduleBanCleanup(): Promise<void> {
    const next = this.bans.nextExpiry();
    if (next === undefined) return this.ctx.storage.deleteAlarm();
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  // -------------------------------------------------------------------------
  // Sockets and their state

  private liveSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN && !this.departed.has(ws));
  }

  private stateOf(ws: WebSocket): SocketState {
    let state = this.sockets.get(ws);
    if (!state) {
      state = ws.deserializeAttachment() as SocketState;
      this.sockets.set(ws, state);
    }
    return state;
  }

  /** Writes the attachment first: it is the truth that survives hibernation. */
  private remember(ws: WebSocket, state: SocketState): void {
    ws.serializeAttachment(state);
    this.sockets.set(ws, state);
  }

  private holderOf(nickname: string): WebSocket | undefined {
    return this.liveSockets().find((ws) => this.stateOf(ws).nickname === nickname);
  }

  private broadcast(message: WireMessage): void {
    this.sendTo(this.liveSockets(), new Outgoing(envelope(message)));
  }

  /** One dead socket must never break a broadcast: each send stands alone. */
  private sendTo(sockets: Iterable<WebSocket>, outgoing: Outgoing): void {
    for (const ws of sockets) {
      const frame = outgoing.for(dialectOf(this.stateOf(ws)));
      if (frame === undefined) continue;
      try {
        ws.send(frame);
      } catch {
        // Gone away; its close handler announces the departure.
      }
    }
  }
}

function dialectOf(state: SocketState): Dialect {
  return state.gischat1 ? "gischat1" : state.family;
}

/** One JSON line per moderation action, for `wrangler tail` and Logpush; never the token. */
function logModeration(entry: { room: string | undefined; action: string; [detail: string]: unknown }): void {
  console.log(JSON.stringify({ event: "moderation", ...entry, time: new Date().toISOString() }));
}

function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let result = "";
  for (const char of text) {
    if (encoder.encode(result + char).length > maxBytes) break;
    result += char;
  }
  return result;
}
