// Who is where, the pure parts: the room's users' last positions (GET …/positions,
// then the live `position` messages of registered users and their departures),
// how much a marker fades with its age, the answers of GET …/nearby, and how a
// distance and an age read.
import { roomPath } from "./history";

/** A user's last position, as this page knows it. */
export interface Person {
  nickname: string;
  lat: number;
  lon: number;
  /** When the position was shared, in this page's clock (ms since the epoch). */
  at: number;
  /** The `position` message it comes from. */
  messageId: string;
}

/** The opacity of a position as old as the room keeps them: still visible, clearly stale. */
export const MIN_OPACITY = 0.25;

/**
 * A marker's opacity: 1 for a position just shared, down to MIN_OPACITY when it is
 * as old as the room keeps them (position_max_age_seconds), linearly; 0 beyond,
 * when the room has forgotten it.
 */
export function opacityForAge(ageSeconds: number, maxAgeSeconds: number): number {
  if (!(maxAgeSeconds > 0)) return 1;
  const age = Math.max(0, ageSeconds);
  if (age > maxAgeSeconds) return 0;
  return 1 - (1 - MIN_OPACITY) * (age / maxAgeSeconds);
}

/** Metres as one reads them: "40 m", "850 m", "1.2 km", "5 km", "25 km". */
export function formatDistance(metres: number): string {
  if (!Number.isFinite(metres) || metres < 0) return "?";
  if (Math.round(metres) < 1000) return `${Math.round(metres)} m`;
  const tenths = Math.round(metres / 100) / 10;
  if (tenths < 10) return `${tenths} km`;
  return `${Math.round(metres / 1000).toLocaleString("en")} km`;
}

/** An age as one reads it: "just now", "40 s ago", "12 min ago", "2 h 5 min ago", "3 d ago". */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h ago` : `${hours} h ${minutes % 60} min ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** GET …/positions: the people in it, dated in this page's clock from their age (the server's and the page's clocks may differ). */
export function parsePositions(body: unknown, now: number): Person[] {
  if (typeof body !== "object" || body === null) return [];
  const features = (body as { features?: unknown }).features;
  if (!Array.isArray(features)) return [];
  return features.flatMap((feature: unknown): Person[] => {
    const { geometry, properties } = (feature ?? {}) as { geometry?: unknown; properties?: unknown };
    const coordinates = (geometry as { coordinates?: unknown } | null)?.coordinates;
    const { nickname, age_seconds: age, message_id: messageId } = (properties ?? {}) as Record<string, unknown>;
    if (!Array.isArray(coordinates) || typeof nickname !== "string" || typeof age !== "number") return [];
    const [lon, lat] = coordinates as unknown[];
    if (typeof lon !== "number" || typeof lat !== "number") return [];
    return [{ nickname, lon, lat, at: now - age * 1000, messageId: typeof messageId === "string" ? messageId : "" }];
  });
}

export interface NearbyUser {
  nickname: string;
  distance_m: number;
  age_seconds: number;
}

export interface Nearby {
  center: [number, number];
  radius_m: number;
  users: NearbyUser[];
}

/** GET …/nearby's answer, if it has the documented shape (the users nearest first, as the server sorts them). */
export function parseNearby(body: unknown): Nearby | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { center, radius_m: radius, users } = body as Record<string, unknown>;
  if (!Array.isArray(center) || center.length !== 2 || !center.every((c) => typeof c === "number")) return undefined;
  if (typeof radius !== "number" || !Array.isArray(users)) return undefined;
  const wellFormed = users.every((user: unknown) => {
    const { nickname, distance_m: distance, age_seconds: age } = (user ?? {}) as Record<string, unknown>;
    return typeof nickname === "string" && typeof distance === "number" && typeof age === "number";
  });
  return wellFormed ? { center: center as [number, number], radius_m: radius, users: users as NearbyUser[] } : undefined;
}

/** GET …/nearby around a point, in the page's realm. */
export function nearbyPath(prefix: string, room: string, lat: number, lon: number, radiusMetres: number): string {
  const query = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), radius_m: String(radiusMetres) });
  return `${roomPath(prefix, room, "nearby")}?${query}`;
}

/**
 * The last position of each user, kept live: a newer position replaces an older
 * one (GET …/positions and the socket may bring them in either order), a departure
 * removes it, and so does age, as the room forgets it.
 */
export class People {
  private readonly byNickname = new Map<string, Person>();

  /** Sets a user's position, unless the one known is newer; true if it changed. */
  update(person: Person): boolean {
    const known = this.byNickname.get(person.nickname);
    if (known && known.at > person.at) return false;
    this.byNickname.set(person.nickname, person);
    return true;
  }

  remove(nickname: string): boolean {
    return this.byNickname.delete(nickname);
  }

  get(nickname: string): Person | undefined {
    return this.byNickname.get(nickname);
  }

  clear(): void {
    this.byNickname.clear();
  }

  /** Everyone, by nickname. */
  all(): Person[] {
    return [...this.byNickname.values()].sort((a, b) => a.nickname.localeCompare(b.nickname));
  }

  /** Forgets the positions older than the room keeps them; gives the nicknames forgotten. */
  expire(now: number, maxAgeSeconds: number): string[] {
    const forgotten: string[] = [];
    for (const [nickname, person] of this.byNickname) {
      if ((now - person.at) / 1000 > maxAgeSeconds) {
        this.byNickname.delete(nickname);
        forgotten.push(nickname);
      }
    }
    return forgotten;
  }
}
