// Worker entry: the Hono app routes REST and upgrades; each room is a Durable Object,
// and one Directory object knows the rooms made at run time and the private spaces.
import { app } from "./worker/app";

export { Directory } from "./directory/directory";
export { Room } from "./room/room";

export default app satisfies ExportedHandler<Env>;
