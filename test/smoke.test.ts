import { describe, expect, it } from "vitest";
import { Client, freshRoom, request } from "./helpers";

describe("smoke", () => {
  it("works", async () => {
    const r = await request("/rooms");
    expect(r.headers.get("content-type")).toBe("application/json");
    const room = freshRoom();
    const a = await Client.join("rooms", room, "alice");
    a.send({ type: "text", author: "alice", text: "hi" });
    expect(await a.next()).toEqual({ type: "text", author: "alice", avatar: null, text: "hi" });
  });
});
