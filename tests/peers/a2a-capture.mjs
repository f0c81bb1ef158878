// a2a-capture.mjs: regenerates tests/data/a2a/ with real wire samples from a2a-peer.mjs.
//
// Usage (from tests/peers): node a2a-capture.mjs [outDir]    (default ../data/a2a)
//
// It starts a2a-peer.mjs itself (port 0, --seed 5) and talks to it with plain fetch, never the
// SDK client, so every saved byte is exactly what the server sent. Each response body is saved
// raw: .json for JSON bodies, .sse for event streams, .txt for anything else (e.g. express's
// HTML 404). README.md keeps its hand-written top part; everything after the GENERATED marker is
// rewritten with one line per file (request that produced it + HTTP status + content type).
// Ports, ids and timestamps differ on every run; the shapes do not.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] ?? path.join(here, '../data/a2a'));
fs.mkdirSync(outDir, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- start the peer and wait for "LISTENING <port>" ------------------------------------------
// The SDK logs a stack trace to stderr for every error answer we provoke; show it only with A2A_CAPTURE_VERBOSE=1.
const peer = spawn(process.execPath, [path.join(here, 'a2a-peer.mjs'), '--seed', '5'],
  { stdio: ['pipe', 'pipe', process.env.A2A_CAPTURE_VERBOSE ? 'inherit' : 'ignore'] });
const port = await new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('peer did not print LISTENING within 10 s')), 10000);
  readline.createInterface({ input: peer.stdout }).on('line', (l) => {
    const m = /^LISTENING (\d+)$/.exec(l);
    if (m) { clearTimeout(t); resolve(Number(m[1])); }
  });
  peer.on('exit', (c) => reject(new Error(`peer exited early (${c})`)));
});
const base = `http://127.0.0.1:${port}`;

// --- raw HTTP helpers ------------------------------------------------------------------------
const index = []; // README lines
async function call(name, req, { stream = false, onFirstBytes } = {}) {
  const init = { method: req.method, headers: req.headers ?? {} };
  if (req.body !== undefined) init.body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  init.signal = AbortSignal.timeout(20000);
  const res = await fetch(base + req.path, init);
  const ct = res.headers.get('content-type') ?? '';
  // Read the body chunk by chunk so streams are saved byte-exact, and so a caller can act
  // (e.g. cancel) once the first event has arrived.
  const chunks = [];
  let first = true;
  for await (const c of res.body) {
    chunks.push(Buffer.from(c));
    if (first && onFirstBytes) { first = false; onFirstBytes(); }
  }
  const raw = Buffer.concat(chunks);
  const ext = ct.startsWith('text/event-stream') ? 'sse' : ct.includes('json') ? 'json' : 'txt';
  const file = `${name}.${ext}`;
  fs.writeFileSync(path.join(outDir, file), raw);
  const hdrs = Object.entries(init.headers).map(([k, v]) => `${k}: ${v}`).join(', ') || '(none)';
  const body = init.body === undefined ? '' : ` body \`${init.body}\``;
  index.push(`- \`${file}\`: ${req.method} \`${req.path}\` [${hdrs}]${body} → **${res.status}** \`${ct}\``);
  const text = raw.toString('utf8');
  let json; try { json = JSON.parse(text); } catch { /* SSE or HTML */ }
  return { status: res.status, json, text, file };
}
// Find the Task object in any dialect's send/get answer.
function taskOf(j) {
  const r = j?.result ?? j;
  const t = r?.task ?? r;
  return t?.id && t?.status ? t : undefined;
}

// --- the four dialect × binding combinations --------------------------------------------------
const V1 = { 'A2A-Version': '1.0' };
const rpcReq = (hdrs) => (method, params) => ({
  method: 'POST', path: '/a2a/jsonrpc', headers: { 'Content-Type': 'application/json', ...hdrs },
  body: { jsonrpc: '2.0', id: randomUUID(), method, params },
});
// Message builders: v1.0 ProtoJSON, v0.3 JSON-RPC (kind-tagged) and v0.3 REST (v0.3 proto JSON,
// where the parts array is called "content" and a data part nests as {"data":{"data":…}}).
const msgV1 = (text, data, ids = {}) => ({ messageId: randomUUID(), role: 'ROLE_USER', ...ids,
  parts: data ? [{ text }, { data }] : [{ text }] });
const msgV03 = (text, data, ids = {}) => ({ kind: 'message', messageId: randomUUID(), role: 'user', ...ids,
  parts: data ? [{ kind: 'text', text }, { kind: 'data', data }] : [{ kind: 'text', text }] });
const msgV03Rest = (text, data, ids = {}) => ({ messageId: randomUUID(), role: 'ROLE_USER', ...ids,
  content: data ? [{ text }, { data: { data } }] : [{ text }] });

const rest = (prefix, hdrs, ct) => ({
  send: (message, cfg) => ({ method: 'POST', path: `${prefix}/message:send`, headers: { 'Content-Type': ct, ...hdrs }, body: { message, configuration: cfg } }),
  stream: (message) => ({ method: 'POST', path: `${prefix}/message:stream`, headers: { 'Content-Type': ct, ...hdrs }, body: { message } }),
  get: (id) => ({ method: 'GET', path: `${prefix}/tasks/${id}`, headers: { ...hdrs } }),
  list: (q) => ({ method: 'GET', path: `${prefix}/tasks?${new URLSearchParams(q)}`, headers: { ...hdrs } }),
  cancel: (id) => ({ method: 'POST', path: `${prefix}/tasks/${id}:cancel`, headers: { 'Content-Type': ct, ...hdrs }, body: {} }),
  subscribe: (id) => ({ method: 'POST', path: `${prefix}/tasks/${id}:subscribe`, headers: { 'Content-Type': ct, ...hdrs }, body: {} }),
  unknown: () => ({ method: 'GET', path: `${prefix}/no-such-route`, headers: { ...hdrs } }),
  malformed: () => ({ method: 'POST', path: `${prefix}/message:send`, headers: { 'Content-Type': ct, ...hdrs }, body: '{"message": {' }),
});
const rpc = (hdrs, m) => {
  const r = rpcReq(hdrs);
  return {
    send: (message, cfg) => r(m.send, { message, configuration: cfg }),
    stream: (message) => r(m.stream, { message }),
    get: (id) => r(m.get, { id }),
    list: (q) => r(m.list, q),
    cancel: (id) => r(m.cancel, { id }),
    subscribe: (id) => r(m.subscribe, { id }),
    unknown: () => r('NoSuchMethod', {}),
    malformed: () => ({ ...r(m.get, {}), body: '{"jsonrpc":"2.0","id":1,"method":' }),
  };
};
const combos = {
  'v1-jsonrpc': { ...rpc(V1, { send: 'SendMessage', stream: 'SendStreamingMessage', get: 'GetTask', list: 'ListTasks', cancel: 'CancelTask', subscribe: 'SubscribeToTask' }),
    msg: msgV1, nonBlocking: { returnImmediately: true } },
  'v1-rest': { ...rest('/a2a/rest', V1, 'application/a2a+json'), msg: msgV1, nonBlocking: { returnImmediately: true } },
  'v03-jsonrpc': { ...rpc({}, { send: 'message/send', stream: 'message/stream', get: 'tasks/get', list: 'tasks/list', cancel: 'tasks/cancel', subscribe: 'tasks/resubscribe' }),
    msg: msgV03, nonBlocking: { blocking: false } },
  // a2a-js serves v0.3 REST under the REST base + "/v1" (same card URL as v1.0 REST).
  'v03-rest': { ...rest('/a2a/rest/v1', {}, 'application/json'), msg: msgV03Rest, nonBlocking: { blocking: false } },
};

// --- capture ---------------------------------------------------------------------------------
await call('card-v1', { method: 'GET', path: '/.well-known/agent-card.json', headers: V1 });
await call('card-v03', { method: 'GET', path: '/.well-known/agent-card.json' });

for (const [p, d] of Object.entries(combos)) {
  // Non-blocking send of a long task, then get/list/cancel/cancel-again on it.
  const sent = await call(`${p}-send-nonblocking`, d.send(d.msg('work 30000'), d.nonBlocking));
  const work = taskOf(sent.json);
  if (!work) throw new Error(`${p}: no task in ${sent.text}`);
  await sleep(300);
  await call(`${p}-get-task`, d.get(work.id));
  // Paging over the 3 seeded tasks of ctx-seed-a: page 1 of size 2 has a token, page 2 is last.
  // v0.3 has no list; the v0.3 files record what the server answers instead ("-list-tasks").
  const l1 = await call(`${p}-list-tasks${p.startsWith('v1') ? '-page1' : ''}`, d.list({ contextId: 'ctx-seed-a', pageSize: 2 }));
  const token = l1.json?.result?.nextPageToken ?? l1.json?.nextPageToken;
  if (token) await call(`${p}-list-tasks-last`, d.list({ contextId: 'ctx-seed-a', pageSize: 2, pageToken: token }));
  await call(`${p}-cancel-working`, d.cancel(work.id));
  await call(`${p}-cancel-again`, d.cancel(work.id));
  await call(`${p}-get-task-after-cancel`, d.get(work.id));

  // A completed task: blocking "quick" send (v1.0 blocks by default; v0.3 set blocking:true).
  const quick = taskOf((await call(`${p}-send-blocking-quick`, d.send(d.msg('quick'), p.startsWith('v03') ? { blocking: true } : undefined))).json);
  await call(`${p}-cancel-completed`, d.cancel(quick.id));
  await call(`${p}-subscribe-terminal`, d.subscribe(quick.id));
  await call(`${p}-get-task-unknown`, d.get('no-such-task'));
  await call(`${p}-unknown-method`, d.unknown());
  await call(`${p}-malformed-json`, d.malformed());

  // Streams: a short task from start to end, and a re-attach to a task we then cancel.
  await call(`${p}-stream-work`, d.stream(d.msg('work 1500')));
  const sub = taskOf((await call(`${p}-send-nonblocking-for-subscribe`, d.send(d.msg('work 30000'), d.nonBlocking))).json);
  await sleep(300);
  let cancelDone;
  await call(`${p}-subscribe-cancel`, d.subscribe(sub.id), {
    // Cancel from a second connection once the subscription is live; not saved (it repeats
    // cancel-working), its only job is to end the stream.
    onFirstBytes: () => { cancelDone = sleep(600).then(() => fetch(base + d.cancel(sub.id).path, {
      method: 'POST', headers: d.cancel(sub.id).headers, body: JSON.stringify(d.cancel(sub.id).body) })); },
  });
  await cancelDone;

  // Approval gate: "ask" → INPUT_REQUIRED; reply with a decision on the same task+context.
  const ask = taskOf((await call(`${p}-send-ask`, d.send(d.msg('ask'), p.startsWith('v03') ? { blocking: true } : undefined))).json);
  await call(`${p}-ask-input-required`, d.get(ask.id));
  await call(`${p}-ask-reply-approve`, d.send(d.msg('approved', { decision: 'approve', reason: 'customer verified' },
    { taskId: ask.id, contextId: ask.contextId }), p.startsWith('v03') ? { blocking: true } : undefined));
  await call(`${p}-ask-after-approve`, d.get(ask.id));
}

// Dialect selection edge cases.
const getV1 = combos['v1-jsonrpc'].get('no-such-task');
await call('v1-jsonrpc-v03-method', { ...getV1, body: { ...getV1.body, method: 'tasks/get' } });
await call('v1-rest-v03-path', { ...combos['v03-rest'].get('no-such-task'), headers: V1 });
await call('v1-jsonrpc-unsupported-version', { ...getV1, headers: { ...getV1.headers, 'A2A-Version': '9.9' } });
await call('v1-rest-unsupported-version', { ...combos['v1-rest'].get('no-such-task'), headers: { 'A2A-Version': '9.9' } });
await call('v1-rest-version-query-param', { ...combos['v1-rest'].get('no-such-task'), path: '/a2a/rest/tasks/no-such-task?A2A-Version=1.0', headers: {} });
// With "A2A-Version: 1.0" a "/v1/..." REST path is routed as tenant "v1" of the v1.0 API.
await call('v1-rest-list-tenant-v1', { ...combos['v1-rest'].list({ pageSize: 2 }), path: '/a2a/rest/v1/tasks?pageSize=2' });
// REST paths without "/v1" are the v1.0 API whatever the header says (absent, 0.3).
await call('rest-v1-path-no-version-header', { ...combos['v1-rest'].get('no-such-task'), headers: {} });
await call('rest-v1-path-version-0.3-header', { ...combos['v1-rest'].get('no-such-task'), headers: { 'A2A-Version': '0.3' } });
await call('v1-jsonrpc-content-type-text-plain', { ...getV1, headers: { ...getV1.headers, 'Content-Type': 'text/plain' } });
await call('v1-jsonrpc-version-query-param', { ...getV1, path: '/a2a/jsonrpc?A2A-Version=1.0', headers: { 'Content-Type': 'application/json' } });
await call('v1-rest-send-plain-json-content-type', { ...combos['v1-rest'].send(msgV1('quick')), headers: { ...V1, 'Content-Type': 'application/json' } });

// --- README: keep the hand-written head, regenerate the file index ---------------------------
const MARK = '<!-- GENERATED by tests/peers/a2a-capture.mjs: everything below is rewritten -->';
const readme = path.join(outDir, 'README.md');
const head = fs.existsSync(readme) ? fs.readFileSync(readme, 'utf8').split(MARK)[0] : '# A2A wire samples\n\n';
fs.writeFileSync(readme, `${head}${MARK}\n\nCaptured from \`a2a-peer.mjs --seed 5\` on 127.0.0.1:${port} (base URL below is \`http://127.0.0.1:PORT\`).\n\n${index.join('\n')}\n`);

peer.stdin.end(); // the peer exits when stdin closes
console.log(`wrote ${index.length} files to ${outDir}`);
