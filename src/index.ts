// Worker entry: the Hono app routes REST and upgrades; each room is a Durable Object.
import { app } from "./worker/app";

export { ImagePipeline } from "./images/entrypoint";
export { Room } from "./room/room";

export default app satisfies ExportedHandler<Env>;
