// Worker entry: the Hono app routes REST and upgrades; each room is a Durable Object.
import { app } from "./routes";

export { Room } from "./room";

export default app satisfies ExportedHandler<Env>;
