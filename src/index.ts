// Worker entry: the Hono app routes REST and upgrades; each room is a Durable Object.
import { app } from "./routes";

export { ImagePipeline } from "./image-worker";
export { Room } from "./room";

export default app satisfies ExportedHandler<Env>;
