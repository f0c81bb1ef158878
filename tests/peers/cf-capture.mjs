// Captures real Cloudflare Agents frames from the test peer (cf-peer.mjs) for
// tests/data/cloudflare/. Usage: node --experimental-websocket cf-capture.mjs --port P --out DIR
// Each scenario writes DIR/<name>.jsonl: one line per frame, {"dir":"sent"|"received","frame":…}
// (frames that are not JSON are kept as {"dir":…,"text":…}); a close is {"dir":"close",
// "code":…,"reason":…}.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const opt = (name, def) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : def);
const port = Number(opt("--port", "8787"));
const out = opt("--out", "capture");
mkdirSync(out, { recursive: true });

function session(path) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const log = [];
  const waiters = [];
  ws.addEventListener("message", (ev) => {
    let entry;
    try { entry = { dir: "received", frame: JSON.parse(ev.data) }; } catch { entry = { dir: "received", text: String(ev.data) }; }
    log.push(entry);
    for (const w of [...waiters]) if (w.pred(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  ws.addEventListener("close", (ev) => log.push({ dir: "close", code: ev.code, reason: ev.reason }));
  const opened = new Promise((res, rej) => { ws.addEventListener("open", res); ws.addEventListener("error", () => rej(new Error("error on " + path))); });
  return {
    ws, log, opened,
    send(frame) { log.push({ dir: "sent", frame }); ws.send(JSON.stringify(frame)); },
    until(pred, ms = 15000) {
      const hit = log.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error("timeout waiting on " + path)), ms);
      });
    },
    save(name) { writeFileSync(join(out, name + ".jsonl"), log.map((e) => JSON.stringify(e)).join("\n") + "\n"); },
  };
}
const isRpc = (id, done) => (e) => e.frame?.type === "rpc" && e.frame.id === id && (done ? e.frame.done === true || e.frame.success === false : true);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// 1. connect: identity, state, mcp servers.
{
  const s = session("/agents/work-agent/capture-connect");
  await s.opened;
  await s.until((e) => e.frame?.type === "cf_agent_mcp_servers");
  await sleep(300);
  s.ws.close(1000, "capture done");
  await sleep(200);
  s.save("connect");
}
// 2. rpc: plain call, unknown method, throwing method.
{
  const s = session("/agents/work-agent/capture-rpc");
  await s.opened;
  await s.until((e) => e.frame?.type === "cf_agent_state");
  s.send({ type: "rpc", id: "r1", method: "ping", args: ["hello"] });
  await s.until(isRpc("r1", true));
  s.send({ type: "rpc", id: "r2", method: "noSuchMethod", args: [] });
  await s.until(isRpc("r2", true));
  s.send({ type: "rpc", id: "r3", method: "fail", args: ["no budget"] });
  await s.until(isRpc("r3", true));
  s.send({ type: "rpc", id: "r4", method: "setState", args: [{}] });
  await s.until(isRpc("r4", true));
  s.ws.close(1000);
  await sleep(200);
  s.save("rpc");
}
// 3. streaming work to the end, with a second observer that sees only state.
{
  const s = session("/agents/work-agent/capture-stream");
  const o = session("/agents/work-agent/capture-stream");
  await s.opened; await o.opened;
  await s.until((e) => e.frame?.type === "cf_agent_state");
  s.send({ type: "rpc", id: "w1", method: "work", args: [3, 200] });
  await s.until(isRpc("w1", true));
  await sleep(300);
  s.ws.close(1000); o.ws.close(1000);
  await sleep(200);
  s.save("stream-work");
  o.save("stream-observer");
}
// 4. stop while working (the stop_method path).
{
  const s = session("/agents/work-agent/capture-stop");
  await s.opened;
  await s.until((e) => e.frame?.type === "cf_agent_state");
  s.send({ type: "rpc", id: "w1", method: "work", args: [50, 200] });
  await s.until((e) => e.frame?.type === "rpc" && e.frame.id === "w1");
  s.send({ type: "rpc", id: "s1", method: "stop", args: [] });
  await s.until(isRpc("s1", true));
  await s.until(isRpc("w1", true));
  await sleep(300);
  s.ws.close(1000);
  await sleep(200);
  s.save("stop");
}
// 5. client state push and chat cancel sent to a plain agent (no chat): what comes back.
{
  const s = session("/agents/work-agent/capture-push");
  await s.opened;
  await s.until((e) => e.frame?.type === "cf_agent_state");
  s.send({ type: "cf_agent_state", state: { status: "idle", step: 0, steps: 0, note: "pushed" } });
  s.send({ type: "cf_agent_chat_request_cancel", id: "chat-1" });
  s.send({ type: "cf_agent_tool_approval", toolCallId: "call-1", approved: true });
  await sleep(1000);
  s.ws.close(1000);
  await sleep(200);
  s.save("push-and-chat-frames");
}
// 6. PascalCase class in the URL.
{
  const r = await fetch(`http://127.0.0.1:${port}/agents/WorkAgent/x`).catch((e) => ({ status: "error " + e.message, text: async () => "" }));
  const u = await fetch(`http://127.0.0.1:${port}/agents/no-such-agent/x`).catch((e) => ({ status: "error " + e.message, text: async () => "" }));
  writeFileSync(join(out, "routes.json"), JSON.stringify({
    pascalCase: { path: "/agents/WorkAgent/x", status: r.status, body: await r.text() },
    unknownClass: { path: "/agents/no-such-agent/x", status: u.status, body: await u.text() },
  }, null, 2) + "\n");
}
console.log("CAPTURED " + out);
process.exit(0);
