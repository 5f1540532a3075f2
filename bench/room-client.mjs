// The benchmarks' sockets to a room (fanout.mjs, stall.mjs): how a socket's failures end a run, and
// how a room's JSON frames are read. A run is the bench's own object with at least
// { fatal, closing, unexpected }; a client at least { ws, nbUsers, closed }.
import { BenchError, now } from "./util.mjs";

/**
 * Wires `client.ws` (Node's WebSocket or the ws package's: both have addEventListener) into `run`:
 * its frames go to `onFrame(data)`; a close or an error before the bench closes the sockets
 * (`run.closing`) is fatal for the run, the first cause kept. Answers a promise of the opening.
 */
export function watchSocket(run, client, label, onFrame) {
  client.ws.addEventListener("message", (event) => onFrame(event.data));
  client.ws.addEventListener("close", (event) => {
    client.closed = true;
    if (!run.closing) run.fatal ??= `${label} closed unexpectedly (code ${event.code} ${JSON.stringify(event.reason)})`;
  });
  client.ws.addEventListener("error", () => {
    if (!run.closing) run.fatal ??= `${label} failed (WebSocket error event)`;
  });
  return new Promise((resolve, reject) => {
    client.ws.addEventListener("open", resolve, { once: true });
    client.ws.addEventListener("close", () => reject(new BenchError(`${label} closed before opening`)), { once: true });
  });
}

/**
 * Reads one JSON frame of the room: nb_users goes to `client.nbUsers`, newcomers and texts to
 * `on.newcomer(run, client, name)` and `on.text(run, client, message, receivedAt)`; "uncompliant"
 * (the server refused one of the bench's own messages) is fatal; anything else is noted as unexpected.
 */
export function onRoomFrame(run, client, label, data, receivedAt, on) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    run.unexpected.push(`non-JSON frame: ${String(data).slice(0, 80)}`);
    return;
  }
  switch (message.type) {
    case "nb_users":
      client.nbUsers = message.nb_users;
      return;
    case "newcomer":
      return on.newcomer(run, client, message.newcomer);
    case "text":
      return on.text(run, client, message, receivedAt);
    case "uncompliant":
      run.fatal ??= `${label} was told its message is uncompliant: ${message.reason}`;
      return;
    default:
      run.unexpected.push(`${label} received ${data.slice(0, 120)}`);
  }
}

// ---------------------------------------------------------------------------
// Timed texts: "<seq>:<send time>", so that every receiver can tell the latency (one process, one clock)

let nextSeq = 1;

/**
 * Sends a text "<seq>:<send time>" from `ws` as `author`, records it in `run.sent` (a Map) under its
 * seq as { seq, time, text, reached: 0, ...extra } (reached: sockets it got to), and answers the seq.
 */
export function sendTimedText(run, ws, author, extra) {
  const seq = nextSeq++;
  const time = now().toFixed(3);
  const text = `${seq}:${time}`;
  run.sent.set(seq, { seq, time: Number(time), text, reached: 0, ...extra });
  ws.send(JSON.stringify({ type: "text", author, avatar: null, text }));
  return seq;
}

/**
 * The record of a text this run sent as `author` (see sendTimedText); undefined for any other text,
 * such as those of earlier rounds the room replays from its history to a new socket: those are only
 * counted, in `run.replayed`.
 */
export function sentTextOf(run, message, author) {
  const sent = run.sent.get(Number(String(message.text).split(":", 1)[0]));
  if (message.author === author && sent !== undefined && message.text === sent.text) return sent;
  run.replayed++;
  return undefined;
}
