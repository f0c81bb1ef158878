// langgraph-capture.mjs: regenerates tests/data/langgraph/ with real wire samples from the
// LangGraph JS dev server (@langchain/langgraph-cli, PROTOCOLS.md 6.4) serving langgraph/graph.mjs.
//
// Usage (from tests/peers): node langgraph-capture.mjs [outDir]    (default ../data/langgraph)
//
// It copies langgraph/ into a fresh temporary directory (the server writes .langgraph_api/ and
// .gitignore there), starts `langgraphjs dev` on a reserved loopback port in its own process
// group, and talks to it with plain fetch, so every saved byte is what the server sent. Bodies
// are saved raw: .json for JSON, .sse for event streams, .txt for anything else (an empty 202 is
// an empty .txt). README.md keeps its hand-written top part; everything after the GENERATED
// marker is rewritten with one line per file (request, HTTP status, content type).
// Ids, ports and timestamps differ on every run; the shapes do not.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] ?? path.join(here, '../data/langgraph'));
fs.mkdirSync(outDir, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- start the server --------------------------------------------------------------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-capture-'));
for (const f of fs.readdirSync(path.join(here, 'langgraph')))
  fs.copyFileSync(path.join(here, 'langgraph', f), path.join(work, f));
fs.symlinkSync(path.join(here, 'node_modules'), path.join(work, 'node_modules'));
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const server = spawn(path.join(here, 'node_modules/.bin/langgraphjs'),
  ['dev', '--host', '127.0.0.1', '--port', String(port), '--no-browser', '--no-reload'],
  { cwd: work, detached: true, stdio: ['ignore', process.env.LG_CAPTURE_VERBOSE ? 'inherit' : 'ignore', process.env.LG_CAPTURE_VERBOSE ? 'inherit' : 'ignore'] });
const stopServer = () => { try { process.kill(-server.pid, 'SIGKILL'); } catch {} fs.rmSync(work, { recursive: true, force: true }); };
process.on('exit', stopServer);
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; ++i) {
  try { if ((await fetch(base + '/ok')).ok) break; } catch {}
  if (i > 120) throw new Error('langgraphjs dev did not answer /ok within 60 s');
  await sleep(500);
}

// --- raw HTTP helpers --------------------------------------------------------------------------
const index = [];
async function call(name, method, p, { body, headers = {}, onFirstBytes } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(30000) };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  const res = await fetch(base + p, init);
  const ct = res.headers.get('content-type') ?? '';
  const chunks = [];
  let first = true;
  for await (const c of res.body ?? []) {
    chunks.push(Buffer.from(c));
    if (first && onFirstBytes) { first = false; onFirstBytes(); }
  }
  const raw = Buffer.concat(chunks);
  const ext = ct.startsWith('text/event-stream') ? 'sse' : ct.includes('json') ? 'json' : 'txt';
  const file = `${name}.${ext}`;
  if (name) {
    fs.writeFileSync(path.join(outDir, file), raw);
    const hdrs = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join(', ');
    index.push(`- \`${file}\`: ${method} \`${p.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, (m) => ids.get(m) ?? '{id}')}\`` +
      (hdrs ? ` [${hdrs}]` : '') + (init.body ? ` body \`${init.body}\`` : '') + ` → **${res.status}** \`${ct || '(none)'}\``);
  }
  const text = raw.toString('utf8');
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, json, text };
}
const ids = new Map(); // id → placeholder in README lines
const name = (id, label) => { ids.set(id, label); return id; };
async function until(pred, what, ms = 20000) {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(200)) if (await pred()) return;
  throw new Error(`timed out waiting for ${what}`);
}
const runStatus = async (t, r) => (await call(null, 'GET', `/threads/${t}/runs/${r}`)).json?.status;
const threadStatus = async (t) => (await call(null, 'GET', `/threads/${t}`)).json?.status;

// --- meta --------------------------------------------------------------------------------------
await call('ok', 'GET', '/ok');
await call('info', 'GET', '/info');
await call('assistants-search', 'POST', '/assistants/search', { body: { limit: 10 } });

// --- refund: interrupt, read it everywhere, answer it --------------------------------------
const t1 = name((await call('thread-create', 'POST', '/threads', { body: {} })).json.thread_id, '{refund thread}');
const r1 = name((await call('run-create-refund', 'POST', `/threads/${t1}/runs`,
  { body: { assistant_id: 'agent', input: { mode: 'refund' }, stream_resumable: true, stream_mode: ['values', 'updates'] } })).json.run_id, '{refund run}');
await call('run-join-refund', 'GET', `/threads/${t1}/runs/${r1}/stream`);
await until(async () => (await threadStatus(t1)) === 'interrupted', 'the refund thread to be interrupted');
await call('run-get-success-while-interrupted', 'GET', `/threads/${t1}/runs/${r1}`);
await call('thread-get-interrupted', 'GET', `/threads/${t1}`);
await call('thread-state-interrupted', 'GET', `/threads/${t1}/state`);
await call('threads-search-interrupted', 'POST', '/threads/search', { body: { status: 'interrupted', limit: 10, offset: 0, sort_by: 'updated_at', sort_order: 'desc' } });
await call('runs-list-refund', 'GET', `/threads/${t1}/runs?limit=10&offset=0`);
await call('run-join-finished-last-event-id', 'GET', `/threads/${t1}/runs/${r1}/stream`, { headers: { 'last-event-id': '0' } });
await call('cancel-finished-run', 'POST', `/threads/${t1}/runs/${r1}/cancel?action=interrupt`);
const r2 = name((await call('resume-approve', 'POST', `/threads/${t1}/runs`,
  { body: { assistant_id: 'agent', command: { resume: { decisions: [{ type: 'approve' }] } } } })).json.run_id, '{resume run}');
await until(async () => (await runStatus(t1, r2)) === 'success', 'the resume run to succeed');
await call('run-get-after-approve', 'GET', `/threads/${t1}/runs/${r2}`);
await call('thread-get-after-approve', 'GET', `/threads/${t1}`);
await call('runs-list-two-runs', 'GET', `/threads/${t1}/runs?limit=10&offset=0`);
await call('runs-list-offset-1', 'GET', `/threads/${t1}/runs?limit=1&offset=1`);
const late = await call('resume-not-interrupted', 'POST', `/threads/${t1}/runs`,
  { body: { assistant_id: 'agent', command: { resume: { decisions: [{ type: 'approve' }] } } } });
if (late.json?.run_id) {
  name(late.json.run_id, '{late resume run}');
  await until(async () => ['success', 'error'].includes(await runStatus(t1, late.json.run_id)), 'the late resume to end');
  await call('run-get-late-resume', 'GET', `/threads/${t1}/runs/${late.json.run_id}`);
}

// edit and reject on threads of their own
for (const [label, decision] of [['edit', { type: 'edit', edited_action: { name: 'stripe.refund', args: { charge: 'ch_3QxRefund1250', amount: '1000.00', currency: 'usd' } } }],
  ['reject', { type: 'reject', message: 'customer already refunded by card issuer' }]]) {
  const t = name((await call(null, 'POST', '/threads', { body: {} })).json.thread_id, `{${label} thread}`);
  await call(null, 'POST', `/threads/${t}/runs/wait`, { body: { assistant_id: 'agent', input: { mode: 'refund' } } });
  const r = (await call(`resume-${label}`, 'POST', `/threads/${t}/runs`, { body: { assistant_id: 'agent', command: { resume: { decisions: [decision] } } } })).json.run_id;
  name(r, `{${label} run}`);
  await until(async () => ['success', 'error'].includes(await runStatus(t, r)), `the ${label} run to end`);
  await call(`thread-get-after-${label}`, 'GET', `/threads/${t}`);
}

// a resume the graph cannot read: the run fails, the stream says why
{
  const t = name((await call(null, 'POST', '/threads', { body: {} })).json.thread_id, '{bad resume thread}');
  await call(null, 'POST', `/threads/${t}/runs/wait`, { body: { assistant_id: 'agent', input: { mode: 'refund' } } });
  await call('run-stream-bad-resume', 'POST', `/threads/${t}/runs/stream`, { body: { assistant_id: 'agent', command: { resume: { nonsense: true } }, stream_mode: ['updates'] } });
  const runs = (await call(null, 'GET', `/threads/${t}/runs?limit=10`)).json;
  const bad = runs.find((r) => r.status === 'error') ?? runs[runs.length - 1];
  name(bad.run_id, '{bad resume run}');
  await call('run-get-error', 'GET', `/threads/${t}/runs/${bad.run_id}`);
  await call('thread-get-error', 'GET', `/threads/${t}`);
}

// --- slow: follow, resume the stream, cancel while running -------------------------------------
const t2 = name((await call(null, 'POST', '/threads', { body: {} })).json.thread_id, '{slow thread}');
const r3 = name((await call('run-create-slow', 'POST', `/threads/${t2}/runs`,
  { body: { assistant_id: 'agent', input: { mode: 'slow', steps: 4, delay_ms: 400 }, stream_resumable: true, stream_mode: ['values'] } })).json.run_id, '{slow run}');
await until(async () => (await runStatus(t2, r3)) === 'running', 'the slow run to start');
await call('run-get-running', 'GET', `/threads/${t2}/runs/${r3}`);
await call('thread-get-busy', 'GET', `/threads/${t2}`);
await call('run-create-on-busy-thread', 'POST', `/threads/${t2}/runs`, { body: { assistant_id: 'agent', input: { mode: 'slow' } } });
await call('run-join-slow', 'GET', `/threads/${t2}/runs/${r3}/stream`);
await call('run-join-slow-last-event-id-2', 'GET', `/threads/${t2}/runs/${r3}/stream`, { headers: { 'last-event-id': '2' } });
await call('run-get-slow-done', 'GET', `/threads/${t2}/runs/${r3}`);

const r4 = name((await call(null, 'POST', `/threads/${t2}/runs`,
  { body: { assistant_id: 'agent', input: { mode: 'slow', steps: 30, delay_ms: 500 }, stream_resumable: true } })).json.run_id, '{cancelled run}');
await until(async () => (await runStatus(t2, r4)) === 'running', 'the long run to start');
await sleep(700);
await call('cancel-running-interrupt', 'POST', `/threads/${t2}/runs/${r4}/cancel?wait=false&action=interrupt`);
await sleep(300);
await call('run-get-after-cancel', 'GET', `/threads/${t2}/runs/${r4}`);
await call('thread-get-after-cancel', 'GET', `/threads/${t2}`);
await call('thread-state-after-cancel', 'GET', `/threads/${t2}/state`);
await sleep(2000);
await call('thread-state-after-cancel-2s', 'GET', `/threads/${t2}/state`);
await call('cancel-again', 'POST', `/threads/${t2}/runs/${r4}/cancel?wait=true&action=interrupt`);

const t3 = name((await call(null, 'POST', '/threads', { body: {} })).json.thread_id, '{rollback thread}');
const r5 = name((await call(null, 'POST', `/threads/${t3}/runs`,
  { body: { assistant_id: 'agent', input: { mode: 'slow', steps: 30, delay_ms: 500 } } })).json.run_id, '{rolled back run}');
await until(async () => (await runStatus(t3, r5)) === 'running', 'the rollback run to start');
await sleep(700);
await call('cancel-running-rollback', 'POST', `/threads/${t3}/runs/${r5}/cancel?wait=true&action=rollback`);
await sleep(300);
await call('run-get-after-rollback', 'GET', `/threads/${t3}/runs/${r5}`);
await call('thread-get-after-rollback', 'GET', `/threads/${t3}`);

// --- errors -------------------------------------------------------------------------------------
const nobody = '01a21b03-0000-7000-8000-000000000000';
name(nobody, '{unknown uuid}');
await call('run-get-unknown', 'GET', `/threads/${t1}/runs/${nobody}`);
await call('thread-get-unknown', 'GET', `/threads/${nobody}`);
await call('thread-state-unknown', 'GET', `/threads/${nobody}/state`);
await call('runs-list-unknown-thread', 'GET', `/threads/${nobody}/runs?limit=10`);
await call('run-join-unknown', 'GET', `/threads/${t1}/runs/${nobody}/stream`);
await call('run-get-not-a-uuid', 'GET', `/threads/${t1}/runs/not-a-uuid`);
await call('cancel-unknown', 'POST', `/threads/${t1}/runs/${nobody}/cancel?action=interrupt`);
await call('cancel-bad-action', 'POST', `/threads/${t1}/runs/${r1}/cancel?action=explode`);
await call('threads-search-bad-limit', 'POST', '/threads/search', { body: { limit: 'x' } });
await call('run-create-unknown-assistant', 'POST', `/threads/${t1}/runs`, { body: { assistant_id: 'no-such-graph' } });
await call('threads-search-page1', 'POST', '/threads/search', { body: { limit: 2, offset: 0, sort_by: 'updated_at', sort_order: 'desc' } });
await call('threads-search-page2', 'POST', '/threads/search', { body: { limit: 2, offset: 2, sort_by: 'updated_at', sort_order: 'desc' } });

// --- README -------------------------------------------------------------------------------------
const readme = path.join(outDir, 'README.md');
const marker = '<!-- GENERATED below by tests/peers/langgraph-capture.mjs -->';
const top = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8').split(marker)[0] : '# LangGraph wire samples\n\n';
fs.writeFileSync(readme, `${top}${marker}\n\n${index.join('\n')}\n`);
console.log(`captured ${index.length} samples into ${outDir}`);
stopServer();
process.exit(0);
