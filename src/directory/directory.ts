// The Directory: one Durable Object for the whole instance (named "directory"),
// which knows the rooms made at run time, the private spaces, and the secret that
// signs their keys. The Worker asks it what a realm (the public rooms, or one space)
// holds and caches the answer for a few seconds; the Directory tells the rooms
// themselves when they are removed, revoked or re-keyed.
//
// Only hashes of owner tokens are stored; keys are not stored at all (they are
// signed, see server/space-keys.ts).
import { DurableObject } from "cloudflare:workers";
import { logEvent } from "../server/log";
import { applyMigrations } from "../server/migrations";
import { roomObjectName } from "../server/room-names";
import { importSecret, newOwnerToken, newSpaceId, randomBytes, sha256, signSpaceKey } from "../server/space-keys";
import { sentences } from "../wire/sentences";

/** What the Worker needs to answer for a space. */
export interface SpaceRecord {
  id: string;
  name: string;
  /** The key's version: a rotation bumps it, and keys of older versions stop working. */
  version: number;
  ownerHash: string;
  rules: string;
  /** Overrides of the instance's limits, by their /rules keys (already validated). */
  limits: Record<string, number>;
  rooms: string[];
  createdAt: number;
}

export interface NewSpace {
  name: string;
  rules: string;
  rooms: string[];
  limits: Record<string, number>;
}

/** A space just made, or re-keyed: the only time its key and owner token are shown. */
export interface SpaceCredentials {
  record: SpaceRecord;
  key: string;
  ownerToken?: string;
}

export type RoomChange = { ok: true; rooms: string[] } | { ok: false; status: 404 | 409 | 422; detail: string };

/** The realm of the public rooms, in the rooms table. */
const PUBLIC = "";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE secret (id INTEGER PRIMARY KEY CHECK (id = 1), raw BLOB NOT NULL);
   CREATE TABLE spaces (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, owner_hash TEXT NOT NULL,
     rules TEXT NOT NULL, limits TEXT NOT NULL, created_at INTEGER NOT NULL
   );
   CREATE TABLE rooms (realm TEXT NOT NULL, name TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (realm, name));
   CREATE TABLE removed_seeds (name TEXT PRIMARY KEY);`,
];

export class Directory extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    applyMigrations(ctx.storage, MIGRATIONS);
  }

  /** The raw HMAC secret of space keys, made on first use. */
  secret(): ArrayBuffer {
    const row = this.sql.exec<{ raw: ArrayBuffer }>("SELECT raw FROM secret WHERE id = 1").toArray()[0];
    if (row) return row.raw;
    const raw = randomBytes(32);
    this.sql.exec("INSERT INTO secret (id, raw) VALUES (1, ?)", raw.buffer);
    return raw.buffer as ArrayBuffer;
  }

  // -------------------------------------------------------------------------
  // The public rooms: CHANNELS is their seed list; rooms added at run time follow it.

  publicRooms(seeds: readonly string[]): string[] {
    const removed = new Set(
      this.sql
        .exec<{ name: string }>("SELECT name FROM removed_seeds")
        .toArray()
        .map((row) => row.name),
    );
    return [...seeds.filter((name) => !removed.has(name)), ...this.roomsOf(PUBLIC)];
  }

  async addPublicRoom(name: string, seeds: readonly string[]): Promise<RoomChange> {
    if (this.publicRooms(seeds).includes(name)) return { ok: false, status: 409, detail: sentences.roomExists(name) };
    if (seeds.includes(name)) this.sql.exec("DELETE FROM removed_seeds WHERE name = ?", name);
    else this.appendRoom(PUBLIC, name);
    await this.roomOf(name).revive();
    logEvent("room_added", { realm: "public", room: name });
    return { ok: true, rooms: this.publicRooms(seeds) };
  }

  async removePublicRoom(name: string, seeds: readonly string[]): Promise<RoomChange> {
    if (!this.publicRooms(seeds).includes(name)) return { ok: false, status: 404, detail: sentences.noSuchRoom(name) };
    if (seeds.includes(name)) this.sql.exec("INSERT OR IGNORE INTO removed_seeds (name) VALUES (?)", name);
    else this.sql.exec("DELETE FROM rooms WHERE realm = ? AND name = ?", PUBLIC, name);
    await this.roomOf(name).dissolve(sentences.roomRemoved);
    logEvent("room_removed", { realm: "public", room: name });
    return { ok: true, rooms: this.publicRooms(seeds) };
  }

  // -------------------------------------------------------------------------
  // Spaces

  space(id: string): SpaceRecord | undefined {
    const row = this.sql
      .exec<SpaceRow>("SELECT id, name, version, owner_hash, rules, limits, created_at FROM spaces WHERE id = ?", id)
      .toArray()[0];
    return row === undefined ? undefined : this.recordOf(row);
  }

  spaces(): SpaceRecord[] {
    return this.sql
      .exec<SpaceRow>("SELECT id, name, version, owner_hash, rules, limits, created_at FROM spaces ORDER BY created_at, id")
      .toArray()
      .map((row) => this.recordOf(row));
  }

  async createSpace(space: NewSpace): Promise<SpaceCredentials> {
    const id = newSpaceId();
    const ownerToken = newOwnerToken();
    this.sql.exec(
      "INSERT INTO spaces (id, name, version, owner_hash, rules, limits, created_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
      id,
      space.name,
      await sha256(ownerToken),
      space.rules,
      JSON.stringify(space.limits),
      Date.now(),
    );
    for (const room of space.rooms) this.appendRoom(id, room);
    await Promise.all(space.rooms.map((room) => this.roomOf(room, id).configure(space.limits)));
    const record = this.space(id)!;
    logEvent("space_created", { space: id, name: space.name, rooms: space.rooms.length });
    return { record, key: await this.keyOf(record), ownerToken };
  }

  /** Closes every socket of the space's rooms, deletes their storage, and forgets the space. */
  async revokeSpace(id: string): Promise<boolean> {
    const record = this.space(id);
    if (record === undefined) return false;
    this.sql.exec("DELETE FROM rooms WHERE realm = ?", id);
    this.sql.exec("DELETE FROM spaces WHERE id = ?", id);
    await Promise.all(record.rooms.map((room) => this.roomOf(room, id).dissolve(sentences.spaceRevoked)));
    logEvent("space_revoked", { space: id, rooms: record.rooms.length });
    return true;
  }

  /** A new key (the old one stops working, and its sockets are closed), shown once. */
  async rotateKey(id: string): Promise<SpaceCredentials | undefined> {
    if (this.space(id) === undefined) return undefined;
    this.sql.exec("UPDATE spaces SET version = version + 1 WHERE id = ?", id);
    const record = this.space(id)!;
    await Promise.all(record.rooms.map((room) => this.roomOf(room, id).closeEveryone(sentences.keyRotated)));
    logEvent("space_key_rotated", { space: id, version: record.version });
    return { record, key: await this.keyOf(record) };
  }

  setRules(id: string, rules: string): SpaceRecord | undefined {
    this.sql.exec("UPDATE spaces SET rules = ? WHERE id = ?", rules, id);
    return this.space(id);
  }

  async addSpaceRoom(id: string, name: string, maxRooms: number): Promise<RoomChange> {
    const record = this.space(id);
    if (record === undefined) return { ok: false, status: 404, detail: sentences.noSuchSpace };
    if (record.rooms.includes(name)) return { ok: false, status: 409, detail: sentences.roomExists(name) };
    if (record.rooms.length >= maxRooms) return { ok: false, status: 422, detail: sentences.tooManyRooms(maxRooms) };
    this.appendRoom(id, name);
    const room = this.roomOf(name, id);
    await room.revive();
    await room.configure(record.limits);
    logEvent("room_added", { realm: id, room: name });
    return { ok: true, rooms: this.roomsOf(id) };
  }

  async removeSpaceRoom(id: string, name: string): Promise<RoomChange> {
    const record = this.space(id);
    if (record === undefined) return { ok: false, status: 404, detail: sentences.noSuchSpace };
    if (!record.rooms.includes(name)) return { ok: false, status: 404, detail: sentences.noSuchRoom(name) };
    this.sql.exec("DELETE FROM rooms WHERE realm = ? AND name = ?", id, name);
    await this.roomOf(name, id).dissolve(sentences.roomRemoved);
    logEvent("room_removed", { realm: id, room: name });
    return { ok: true, rooms: this.roomsOf(id) };
  }

  // -------------------------------------------------------------------------

  private async keyOf(record: SpaceRecord): Promise<string> {
    return signSpaceKey(await importSecret(new Uint8Array(this.secret())), { spaceId: record.id, version: record.version });
  }

  private roomsOf(realm: string): string[] {
    return this.sql
      .exec<{ name: string }>("SELECT name FROM rooms WHERE realm = ? ORDER BY position", realm)
      .toArray()
      .map((row) => row.name);
  }

  private appendRoom(realm: string, name: string): void {
    this.sql.exec(
      "INSERT INTO rooms (realm, name, position) VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM rooms WHERE realm = ?))",
      realm,
      name,
      realm,
    );
  }

  private roomOf(room: string, spaceId?: string) {
    return this.env.ROOM.get(this.env.ROOM.idFromName(roomObjectName(room, spaceId)));
  }

  private recordOf(row: SpaceRow): SpaceRecord {
    return {
      id: row.id,
      name: row.name,
      version: row.version,
      ownerHash: row.owner_hash,
      rules: row.rules,
      limits: JSON.parse(row.limits) as Record<string, number>,
      rooms: this.roomsOf(row.id),
      createdAt: row.created_at,
    };
  }
}

type SpaceRow = {
  id: string;
  name: string;
  version: number;
  owner_hash: string;
  rules: string;
  limits: string;
  created_at: number;
};
