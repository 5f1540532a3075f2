// Who is where, the pure parts: fading by age, distances and ages as they read,
// the answers of GET …/positions and …/nearby, and the live set of last positions.
import { describe, expect, it } from "vitest";
import {
  formatAge,
  formatDistance,
  MIN_OPACITY,
  nearbyPath,
  opacityForAge,
  People,
  type Person,
  parseNearby,
  parsePositions,
} from "../src/people";

describe("opacityForAge", () => {
  it("fades linearly from 1 (just shared) to MIN_OPACITY at the room's position_max_age_seconds, and 0 beyond", () => {
    expect(opacityForAge(0, 3600)).toBe(1);
    expect(opacityForAge(-5, 3600)).toBe(1); // the page's clock a little behind the server's
    expect(opacityForAge(1800, 3600)).toBeCloseTo((1 + MIN_OPACITY) / 2, 12);
    expect(opacityForAge(3600, 3600)).toBeCloseTo(MIN_OPACITY, 12);
    expect(opacityForAge(3601, 3600)).toBe(0);
    expect(opacityForAge(30, 60)).toBeCloseTo(opacityForAge(1800, 3600), 12);
  });

  it("never fades the fresher of two positions more", () => {
    let previous = 1;
    for (let age = 0; age <= 3600; age += 60) {
      const opacity = opacityForAge(age, 3600);
      expect(opacity).toBeLessThanOrEqual(previous);
      expect(opacity).toBeGreaterThanOrEqual(MIN_OPACITY);
      previous = opacity;
    }
  });

  it("does not fade at all without a maximum age", () => {
    expect(opacityForAge(100, 0)).toBe(1);
  });
});

describe("formatDistance", () => {
  it("says metres under a kilometre, tenths of a kilometre under ten, whole kilometres beyond", () => {
    expect(formatDistance(0)).toBe("0 m");
    expect(formatDistance(12.34)).toBe("12 m");
    expect(formatDistance(849.6)).toBe("850 m");
    expect(formatDistance(999.4)).toBe("999 m");
    expect(formatDistance(999.6)).toBe("1 km");
    expect(formatDistance(5000)).toBe("5 km");
    expect(formatDistance(1234.5)).toBe("1.2 km");
    expect(formatDistance(9949)).toBe("9.9 km");
    expect(formatDistance(9960)).toBe("10 km");
    expect(formatDistance(24_600)).toBe("25 km");
    expect(formatDistance(12_345_678)).toBe("12,346 km");
  });

  it("says it does not know rather than print NaN", () => {
    expect(formatDistance(Number.NaN)).toBe("?");
    expect(formatDistance(-1)).toBe("?");
  });
});

describe("formatAge", () => {
  it("reads like a person would say it", () => {
    expect(formatAge(0)).toBe("just now");
    expect(formatAge(9.4)).toBe("just now");
    expect(formatAge(42)).toBe("42 s ago");
    expect(formatAge(60)).toBe("1 min ago");
    expect(formatAge(3599)).toBe("59 min ago");
    expect(formatAge(3600)).toBe("1 h ago");
    expect(formatAge(3600 + 5 * 60 + 20)).toBe("1 h 5 min ago");
    expect(formatAge(3 * 86_400 + 10)).toBe("3 d ago");
    expect(formatAge(-3)).toBe("just now");
  });
});

describe("parsePositions", () => {
  it("reads GET …/positions, dating each position in the page's clock from its age", () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    const body = {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [2.35, 48.85] },
          properties: { nickname: "jane_doe", time: "2026-06-01T11:59:00Z", age_seconds: 60, message_id: "m1" },
        },
        { type: "Feature", geometry: { type: "Point", coordinates: ["x", 1] }, properties: { nickname: "bad", age_seconds: 1 } },
        { type: "Feature", geometry: null, properties: { nickname: "none", age_seconds: 1 } },
      ],
    };
    expect(parsePositions(body, now)).toEqual([{ nickname: "jane_doe", lon: 2.35, lat: 48.85, at: now - 60_000, messageId: "m1" }]);
    expect(parsePositions({ detail: "Not Found" }, now)).toEqual([]);
    expect(parsePositions(null, now)).toEqual([]);
  });
});

describe("parseNearby and nearbyPath", () => {
  it("reads GET …/nearby, and refuses what does not have its shape", () => {
    const body = { center: [2.35, 48.85], radius_m: 5000, users: [{ nickname: "bob", distance_m: 1234.5, age_seconds: 42 }] };
    expect(parseNearby(body)).toEqual(body);
    expect(parseNearby({ ...body, users: [{ nickname: "bob" }] })).toBeUndefined();
    expect(parseNearby({ detail: [{ loc: ["query", "lon"] }] })).toBeUndefined();
  });

  it("asks around a point in the page's realm", () => {
    expect(nearbyPath("", "QGIS room", 48.85, 2.35, 5000)).toBe("/channel/QGIS%20room/nearby?lon=2.350000&lat=48.850000&radius_m=5000");
    expect(nearbyPath("/s/abc", "Field", -33.9, 151.2, 1000)).toBe(
      "/s/abc/channel/Field/nearby?lon=151.200000&lat=-33.900000&radius_m=1000",
    );
  });
});

describe("People", () => {
  const at = (nickname: string, when: number, lon = 0): Person => ({ nickname, lat: 0, lon, at: when, messageId: `${nickname}-${when}` });

  it("keeps the newest position of each user, whichever arrives first", () => {
    const people = new People();
    expect(people.update(at("jane", 2_000, 1))).toBe(true);
    expect(people.update(at("jane", 1_000, 2))).toBe(false);
    expect(people.get("jane")?.lon).toBe(1);
    expect(people.update(at("jane", 3_000, 3))).toBe(true);
    expect(people.get("jane")?.lon).toBe(3);
  });

  it("forgets a user who leaves, and positions older than the room keeps", () => {
    const people = new People();
    people.update(at("jane", 0));
    people.update(at("bob", 50_000));
    people.update(at("zoe", 55_000));
    expect(people.remove("zoe")).toBe(true);
    expect(people.expire(61_000, 60)).toEqual(["jane"]);
    expect(people.all().map((person) => person.nickname)).toEqual(["bob"]);
  });
});
