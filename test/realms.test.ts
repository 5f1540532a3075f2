// The Worker's realm cache (src/worker/realms.ts): what the Directory said, per isolate,
// for REALM_TTL_MS; one load for the requests that miss together (a reconnect storm on
// a cold isolate after a deploy), never a failure kept.
import { describe, expect, it } from "vitest";
import { cached, forgetRealm } from "../src/worker/realms";

function counting<T>(answer: () => Promise<T>): { load: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    load: () => {
      calls++;
      return answer();
    },
    calls: () => calls,
  };
}

describe("the realm cache", () => {
  it("loads once for a thousand requests that miss together, and answers them all", async () => {
    const { load, calls } = counting(async () => ["QGIS"]);
    const answers = await Promise.all(Array.from({ length: 1000 }, () => cached("space storm", load)));
    expect(calls()).toBe(1);
    expect(answers.every((rooms) => rooms[0] === "QGIS")).toBe(true);
    expect(await cached("space storm", load)).toEqual(["QGIS"]);
    expect(calls()).toBe(1);
  });

  it("does not keep a failed load: the next request asks again", async () => {
    let fail = true;
    const { load, calls } = counting(async () => {
      if (fail) throw new Error("Directory unreachable");
      return ["Field"];
    });
    await expect(cached("space flaky", load)).rejects.toThrow("Directory unreachable");
    fail = false;
    expect(await cached("space flaky", load)).toEqual(["Field"]);
    expect(calls()).toBe(2);
  });

  it("forgets a load under way when the realm changes meanwhile", async () => {
    let release: (rooms: string[]) => void = () => {};
    const slow = new Promise<string[]>((resolve) => {
      release = resolve;
    });
    const first = cached("space changing", () => slow);
    forgetRealm("changing");
    const { load, calls } = counting(async () => ["after the change"]);
    expect(await cached("space changing", load)).toEqual(["after the change"]);
    release(["before the change"]);
    expect(await first).toEqual(["before the change"]);
    // The stale answer that came back late did not replace the fresh one.
    expect(await cached("space changing", load)).toEqual(["after the change"]);
    expect(calls()).toBe(1);
  });
});
