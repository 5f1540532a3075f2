// REST endpoints of both path families: exact bodies and the exact Content-Type
// the QGIS plugins compare as a string.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import packageJson from "../package.json";
import { Client, type Family, freshRoom, request, roomPath, withoutStamp } from "./helpers";

const configuredRooms = env.CHANNELS.split(",");

async function json(response: Response): Promise<unknown> {
  expect(response.headers.get("Content-Type")).toBe("application/json");
  return response.json();
}

function putText(family: Family, room: string, body: unknown): Promise<Response> {
  return request(roomPath(family, room, "text"), {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("GET /rooms and GET /channels", () => {
  it.each(["/rooms", "/channels"])("%s lists the configured names in order", async (path) => {
    const response = await request(path);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual(configuredRooms);
  });
});

describe("GET /rules", () => {
  it("answers the instance's rules and limits", async () => {
    const response = await request("/rules");
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      rules: "YOLO",
      main_lang: "en",
      min_author_length: 3,
      max_author_length: 32,
      max_message_length: 255,
      max_image_size: 800,
      max_geojson_features: 500,
    });
  });
});

describe("GET /status", () => {
  it("counts live sockets per room, registered or not, in both lists", async () => {
    const room = freshRoom();
    const registered = await Client.join("rooms", room, "alice");
    await Client.join("channels", room);
    await registered.next(); // nb_users for the second socket
    const body = (await json(await request("/status"))) as {
      status: string;
      healthy: boolean;
      rooms: { name: string; nb_connected_users: number }[];
      channels: unknown;
    };
    expect(body.status).toBe("ok");
    expect(body.healthy).toBe(true);
    expect(body.rooms.map((entry) => entry.name)).toEqual(configuredRooms);
    expect(body.rooms.find((entry) => entry.name === room)).toEqual({ name: room, nb_connected_users: 2 });
    expect(body.rooms.find((entry) => entry.name === "QGIS")).toEqual({ name: "QGIS", nb_connected_users: 0 });
    expect(body.channels).toEqual(body.rooms);
  });
});

describe("GET /version", () => {
  it("answers the package version", async () => {
    expect(await json(await request("/version"))).toEqual({ version: packageJson.version });
  });
});

describe.each<Family>(["rooms", "channels"])("GET /%s/{name}/users", (family) => {
  it("lists registered nicknames sorted case-insensitively, not anonymous sockets", async () => {
    const room = freshRoom();
    const clients = [];
    for (const nickname of ["bob", "Alice", "carol", "Bernard"]) {
      const client = await Client.join(family, room, nickname);
      clients.push(client);
    }
    await Client.join(family, room);
    const response = await request(roomPath(family, room, "users"));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual(["Alice", "Bernard", "bob", "carol"]);
  });

  it("answers 404 with the family's word for an unknown name", async () => {
    const response = await request(roomPath(family, "Nowhere", "users"));
    expect(response.status).toBe(404);
    const noun = family === "rooms" ? "Room" : "Channel";
    expect(await json(response)).toEqual({ detail: `${noun} 'Nowhere' not registered` });
  });

  it("decodes names with spaces and matches them case-sensitively", async () => {
    const ok = await request(roomPath(family, "Field and mobile", "users"));
    expect(ok.status).toBe(200);
    expect(await json(ok)).toEqual([]);
    const wrongCase = await request(roomPath(family, "qgis", "users"));
    expect(wrongCase.status).toBe(404);
  });
});

describe.each<Family>(["rooms", "channels"])("GET /%s/{name}/last", (family) => {
  it("answers the stored messages oldest first, serialized for the family", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    for (const text of ["one", "two"]) {
      alice.send({ type: "text", author: "alice", text });
      await alice.next();
    }
    const response = await request(roomPath(family, room, "last"));
    expect(response.status).toBe(200);
    const body = (await json(response)) as Record<string, unknown>[];
    const expected = ["one", "two"].map((text) => ({ type: "text", author: "alice", avatar: null, text }));
    if (family === "rooms") {
      expect(body).toEqual(expected);
    } else {
      expect(body.map(withoutStamp)).toEqual(expected);
      for (const message of body) expect(Object.keys(message)).toEqual(["type", "author", "avatar", "text", "id", "timestamp"]);
    }
  });

  it("answers 404 for an unknown name", async () => {
    const response = await request(roomPath(family, "Nowhere", "last"));
    expect(response.status).toBe(404);
  });
});

describe.each<Family>(["rooms", "channels"])("PUT /%s/{name}/text", (family) => {
  it("broadcasts, stores and answers 200 with the message", async () => {
    const room = freshRoom();
    const listener = await Client.join("rooms", room);
    const response = await putText(family, room, { author: "bot_01", avatar: "mIconPointLayer.svg", text: "from REST" });
    expect(response.status).toBe(200);
    const expected = { type: "text", author: "bot_01", avatar: "mIconPointLayer.svg", text: "from REST" };
    const body = (await json(response)) as Record<string, unknown>;
    expect(family === "rooms" ? body : withoutStamp(body)).toEqual(expected);
    expect(await listener.next()).toEqual(expected);
    expect(await json(await request(roomPath("rooms", room, "last")))).toEqual([expected]);
  });

  it("answers 404 for an unknown name", async () => {
    const response = await putText(family, "Nowhere", { author: "bot_01", text: "hi" });
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ detail: `${family === "rooms" ? "Room" : "Channel"} 'Nowhere' not registered` });
  });

  it("answers 409 when a connected socket holds the author's nickname", async () => {
    const room = freshRoom();
    const alice = await Client.join("rooms", room, "alice");
    const response = await putText(family, room, { author: "alice", text: "not really alice" });
    expect(response.status).toBe(409);
    expect(((await json(response)) as { detail: string }).detail).toContain("'alice'");
    // Nothing was broadcast: the next thing alice sees is her own message.
    alice.send({ type: "text", author: "alice", text: "me" });
    expect(await alice.next()).toMatchObject({ type: "text", text: "me" });
  });

  it.each([
    [{ author: "bot_01" }, "text", "Missing field 'text'"],
    [{ author: "x", text: "hi" }, "author", "between 3 and 32 characters"],
    [{ author: "bot 01", text: "hi" }, "author", "letters, digits"],
    [{ author: "bot_01", text: "a".repeat(256) }, "text", "at most 255 characters"],
    [{ author: "bot_01", text: "hi", type: "image" }, "type", 'must be "text"'],
  ])("answers 422 naming the field for %j", async (body, field, message) => {
    const response = await putText(family, freshRoom(), body);
    expect(response.status).toBe(422);
    const detail = ((await json(response)) as { detail: { loc: string[]; msg: string }[] }).detail;
    expect(detail[0]!.loc).toEqual(["body", field]);
    expect(detail[0]!.msg).toContain(message);
  });

  it("answers 422 when the body is not a JSON object", async () => {
    const response = await putText(family, freshRoom(), "not json");
    expect(response.status).toBe(422);
    expect(await json(response)).toEqual({
      detail: [{ loc: ["body"], msg: expect.stringContaining("JSON object"), type: "value_error" }],
    });
  });
});

describe("unknown paths", () => {
  it("answer a JSON 404", async () => {
    const response = await request("/nope");
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ detail: "Not Found" });
  });
});
