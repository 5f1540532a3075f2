// Checks the client makes before sending, and how it reads what it receives.
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/connection";
import { mentionsMe } from "../src/messages";
import { codePoints, nicknameProblem, parseReceived, type Rules } from "../src/protocol";
import { deepLink } from "../src/settings";

const RULES: Rules = {
  min_author_length: 3,
  max_author_length: 32,
  max_message_length: 255,
  max_image_raw_length: 5_000_000,
  max_geojson_features: 500,
  position_max_age_seconds: 3600,
};

describe("nicknameProblem", () => {
  it("applies the server's bounds and characters", () => {
    expect(nicknameProblem("jane_doe-2", RULES)).toBeUndefined();
    expect(nicknameProblem("jd", RULES)).toContain("between 3 and 32");
    expect(nicknameProblem("x".repeat(33), RULES)).toContain("between 3 and 32");
    expect(nicknameProblem("jane doe", RULES)).toContain("letters, digits");
    expect(nicknameProblem("<img src=x onerror=alert(1)>", RULES)).toContain("letters, digits");
  });
});

describe("mentionsMe", () => {
  it("finds @nickname (any case) and @all, as whole mentions", () => {
    expect(mentionsMe("hi @jane_doe!", "jane_doe")).toBe(true);
    expect(mentionsMe("hi @Jane_Doe", "jane_doe")).toBe(true);
    expect(mentionsMe("@all the layer is up", "jane_doe")).toBe(true);
    expect(mentionsMe("hi @jane_doe2", "jane_doe")).toBe(false);
    expect(mentionsMe("mail jane_doe@example.org", "jane_doe")).toBe(false);
    expect(mentionsMe("@allison", "jane_doe")).toBe(false);
  });
});

describe("parseReceived", () => {
  it("reads JSON messages and ignores the keepalive answer", () => {
    expect(parseReceived('{"type":"nb_users","nb_users":2,"id":"a","timestamp":1}')).toMatchObject({ type: "nb_users", nb_users: 2 });
    expect(parseReceived("pong")).toBeUndefined();
    expect(parseReceived("[1,2]")).toBeUndefined();
    expect(parseReceived('{"no":"type"}')).toBeUndefined();
  });
});

describe("codePoints", () => {
  it("counts an emoji once, as the server does", () => {
    expect(codePoints("🗺️")).toBe(2); // the map emoji and its variation selector
    expect(codePoints("👋")).toBe(1);
    expect(codePoints("abc")).toBe(3);
  });
});

describe("deepLink", () => {
  it("needs both room and nickname", () => {
    expect(deepLink("?room=QGIS&nickname=jane_doe")).toEqual({ room: "QGIS", nickname: "jane_doe" });
    expect(deepLink("?room=Field%20and%20mobile&nickname=jd_2")).toEqual({ room: "Field and mobile", nickname: "jd_2" });
    expect(deepLink("?room=QGIS")).toBeUndefined();
    expect(deepLink("")).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  it("doubles from half a second up to 15 s, with jitter in the upper half", () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(15_000, 500 * 2 ** attempt);
      for (let draw = 0; draw < 20; draw++) {
        const delay = backoffDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
