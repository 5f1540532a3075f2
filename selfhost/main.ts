// `npm run selfhost`: build (selfhost/build.ts), then serve with workerd (selfhost/start.ts).
import { buildSelfhost } from "./build.ts";
import { runCli, startSelfhost } from "./start.ts";
import { settingsFrom } from "./workerd-config.ts";

await runCli(async () => {
  // A wrong HOST or PORT is said before a build of several seconds, not after it.
  settingsFrom(process.env);
  await buildSelfhost();
  return startSelfhost();
});
