// Starts the Cloudflare Agents test peer (cf-agent/) under `wrangler dev --local` on
// 127.0.0.1:<port> (PROTOCOLS.md 6.5) and prints "LISTENING <port>" once wrangler is ready.
// Usage: node cf-peer.mjs --port P
// The agent is copied into the current working directory (a fresh temporary directory from
// the harness), because wrangler keeps its build output and Durable Object state in .wrangler/
// next to the config. node_modules is linked from tests/peers.
import { spawn } from "node:child_process";
import { cpSync, existsSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const portIndex = args.indexOf("--port");
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 8787;
if (!Number.isInteger(port) || port <= 0) {
  console.error("cf-peer: --port needs a port number");
  process.exit(2);
}

const work = process.cwd();
cpSync(join(here, "cf-agent"), join(work, "cf-agent"), { recursive: true });
if (!existsSync(join(work, "node_modules"))) symlinkSync(join(here, "node_modules"), join(work, "node_modules"), "dir");

const wrangler = join(here, "node_modules", "wrangler", "bin", "wrangler.js");
const child = spawn(process.execPath, [wrangler, "dev", "--config", join(work, "cf-agent", "wrangler.jsonc"),
  "--ip", "127.0.0.1", "--port", String(port), "--local", "--show-interactive-dev-session=false",
  "--persist-to", join(work, "state")], {
  cwd: join(work, "cf-agent"),
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1" },
  stdio: ["ignore", "pipe", "pipe"],
});

let ready = false;
const watch = (stream, out) => {
  let pending = "";
  stream.on("data", (chunk) => {
    out.write(chunk);
    pending += chunk.toString();
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!ready && /Ready on http/.test(line)) {
        ready = true;
        process.stdout.write(`LISTENING ${port}\n`);
      }
    }
  });
};
watch(child.stdout, process.stderr);
watch(child.stderr, process.stderr);
child.on("exit", (code, signal) => {
  console.error(`cf-peer: wrangler exited (${signal ?? code})`);
  process.exit(code ?? 1);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => child.kill(sig));
