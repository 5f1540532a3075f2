// The Node baseline for `npm run bench -- --per-message` (bench/per-message.ts), run by it as a child
// process so that its CPU is measured apart: a `ws` server (compression off, like the bench's clients)
// that sends every frame it receives, as it came, to every socket connected to the same path (the
// sender included), as the bare Durable Object does. It prints its port on its first line of output.
import { type ServerSocket, WebSocketServer } from "ws";

const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
const rooms = new Map<string, Set<ServerSocket>>();

server.on("connection", (ws, request) => {
  const path = request.url ?? "/";
  let members = rooms.get(path);
  if (!members) {
    members = new Set();
    rooms.set(path, members);
  }
  const room = members;
  room.add(ws);
  ws.on("message", (data, isBinary) => {
    for (const socket of room) socket.send(data, { binary: isBinary });
  });
  ws.on("close", () => room.delete(ws));
});

server.on("listening", () => {
  const address = server.address();
  console.log(typeof address === "object" && address ? address.port : "");
});
