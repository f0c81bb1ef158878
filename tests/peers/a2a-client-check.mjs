// a2a-client-check.mjs: A2A conformance check of a server, driven by the real @a2a-js/sdk 1.3.0
// client, so Breaker's sandbox A2A host is judged by what an independent client accepts.
//
// Usage: node a2a-client-check.mjs --card-url http://127.0.0.1:PORT/.well-known/agent-card.json
//          [--dialect 1.0|0.3] [--binding JSONRPC|HTTP+JSON] [--quick-text quick]
// Prints one JSON line per check ({"check","ok",...}) and exits 0 only if every check passed.
//
// The server must understand the a2a-peer.mjs conventions: "work <ms>" runs a cancelable task,
// and --quick-text (default "quick") completes at once (needed for the cancel-terminal check).
//
// Checks, in order: card, client, send (non-blocking "work 20000" → SUBMITTED/WORKING), get,
// list (v1.0 only: a2a-js has no v0.3 list, its legacy clients throw; reported as skipped),
// subscribe (≥1 event), cancel (CANCELED from the answer or a GetTask within 5 s),
// subscribe-final (the open subscription sees CANCELED and closes), get-unknown (-32001 / REST
// 404 TASK_NOT_FOUND), cancel-terminal (-32002 / REST 400 TASK_NOT_CANCELABLE).
//
// Proven against a2a-peer.mjs in all four combinations, each exit 0 with 10/10 checks ok
// (run from tests/peers; peer started with `sleep 120 | node a2a-peer.mjs &` → LISTENING 42721):
//   node a2a-client-check.mjs --card-url http://127.0.0.1:42721/.well-known/agent-card.json --dialect 1.0 --binding JSONRPC
//   node a2a-client-check.mjs --card-url http://127.0.0.1:42721/.well-known/agent-card.json --dialect 1.0 --binding HTTP+JSON
//   node a2a-client-check.mjs --card-url http://127.0.0.1:42721/.well-known/agent-card.json --dialect 0.3 --binding JSONRPC
//   node a2a-client-check.mjs --card-url http://127.0.0.1:42721/.well-known/agent-card.json --dialect 0.3 --binding HTTP+JSON
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, ClientFactory, JsonRpcTransportFactory, RestTransportFactory } from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport, LegacyRestTransport, parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';

const { values: opt } = parseArgs({
  options: {
    'card-url': { type: 'string' },
    dialect: { type: 'string', default: '1.0' },
    binding: { type: 'string', default: 'JSONRPC' },
    'quick-text': { type: 'string', default: 'quick' },
  },
});
if (!opt['card-url'] || !['1.0', '0.3'].includes(opt.dialect) || !['JSONRPC', 'HTTP+JSON'].includes(opt.binding)) {
  console.error('usage: node a2a-client-check.mjs --card-url URL [--dialect 1.0|0.3] [--binding JSONRPC|HTTP+JSON] [--quick-text TEXT]');
  process.exit(2);
}
const v1 = opt.dialect === '1.0';

// Internal (proto) enum values the SDK client hands back, whatever the wire dialect.
const ST = { SUBMITTED: 1, WORKING: 2, COMPLETED: 3, FAILED: 4, CANCELED: 5, INPUT_REQUIRED: 6, REJECTED: 7 };
const TERMINAL = [ST.COMPLETED, ST.FAILED, ST.CANCELED, ST.REJECTED];

let failures = 0;
function report(check, ok, detail = {}) {
  if (!ok) failures++;
  console.log(JSON.stringify({ check, ok, dialect: opt.dialect, binding: opt.binding, ...detail }));
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Every remote call gets a deadline, so a hung server fails a check instead of hanging the run.
const within = (ms, p, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(`timeout after ${ms} ms: ${what}`); })]);
// What the SDK error objects carry differs per transport; keep everything that identifies it.
const errInfo = (e) => ({ name: e?.name, message: e?.message, code: e?.code, reason: e?.reason, statusCode: e?.statusCode });
const textMsg = (text, extra = {}) => ({
  messageId: randomUUID(), role: 1 /* ROLE_USER */, contextId: '', taskId: '', metadata: undefined, extensions: [],
  referenceTaskIds: [], parts: [{ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined }],
  ...extra,
});
const sendReq = (text, returnImmediately) => ({
  tenant: '', metadata: undefined, message: textMsg(text),
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
});
// An error is the expected A2A error if any representation of it matches.
const isErr = (e, code, reason, http) => e?.code === code || e?.reason === reason || (http && e?.statusCode === http && (!e.reason || e.reason === reason));

async function main() {
  // --- card: fetched raw, so its JSON shape is validated, not the SDK's normalised copy ------
  const res = await within(10000, fetch(opt['card-url'], { headers: v1 ? { 'A2A-Version': '1.0' } : {} }), 'card fetch');
  const raw = await res.json();
  let endpoint, problems = [];
  if (v1) {
    if (typeof raw.name !== 'string') problems.push('name missing');
    if (!Array.isArray(raw.supportedInterfaces) || !raw.supportedInterfaces.length) problems.push('supportedInterfaces missing');
    if (typeof raw.capabilities !== 'object') problems.push('capabilities missing');
    endpoint = raw.supportedInterfaces?.find((i) => i.protocolBinding === opt.binding && i.protocolVersion === '1.0')?.url;
    if (!endpoint) problems.push(`no ${opt.binding} interface with protocolVersion 1.0`);
  } else {
    if (typeof raw.name !== 'string') problems.push('name missing');
    if (typeof raw.url !== 'string') problems.push('url missing');
    if (!String(raw.protocolVersion ?? '').startsWith('0.3')) problems.push(`protocolVersion is ${raw.protocolVersion}`);
    endpoint = (raw.preferredTransport ?? 'JSONRPC') === opt.binding ? raw.url
      : raw.additionalInterfaces?.find((i) => i.transport === opt.binding)?.url;
    if (!endpoint) problems.push(`no ${opt.binding} transport in url/additionalInterfaces`);
  }
  if (!report('card', res.ok && !problems.length, { status: res.status, endpoint, problems })) return;

  // --- client: v1.0 via the SDK's factory (it prefers the 1.0 interface of the binding);
  // v0.3 via the SDK's legacy transports on the card's v0.3 endpoint --------------------------
  let client;
  try {
    if (v1) {
      const factory = new ClientFactory({
        transports: [new JsonRpcTransportFactory(), new RestTransportFactory()], preferredTransports: [opt.binding],
      });
      client = await factory.createFromAgentCard(raw);
    } else {
      const T = opt.binding === 'JSONRPC' ? LegacyJsonRpcTransport : LegacyRestTransport;
      client = new Client(new T({ endpoint }), parseLegacyAgentCard(raw));
    }
  } catch (e) {
    return report('client', false, { error: errInfo(e) });
  }
  const tp = client.transport;
  if (!report('client', tp.protocolName === opt.binding && tp.protocolVersion.startsWith(opt.dialect),
    { protocolName: tp.protocolName, protocolVersion: tp.protocolVersion })) return;

  // --- send non-blocking ----------------------------------------------------------------------
  let task;
  try {
    task = await within(10000, client.sendMessage(sendReq('work 20000', true)), 'sendMessage');
  } catch (e) { return report('send', false, { error: errInfo(e) }); }
  if (!report('send', !!task?.status && [ST.SUBMITTED, ST.WORKING].includes(task.status.state),
    { taskId: task?.id, state: task?.status?.state, gotMessage: !task?.status })) return;

  // --- get --------------------------------------------------------------------------------------
  try {
    const t = await within(10000, client.getTask({ tenant: '', id: task.id }), 'getTask');
    report('get', t.id === task.id && [ST.SUBMITTED, ST.WORKING].includes(t.status?.state), { state: t.status?.state });
  } catch (e) { report('get', false, { error: errInfo(e) }); }

  // --- list (the new task must be listed; filter by its context so paging cannot hide it) -----
  try {
    const l = await within(10000, client.listTasks({ tenant: '', contextId: task.contextId, status: 0, pageSize: 100 }), 'listTasks');
    report('list', l.tasks.some((t) => t.id === task.id), { count: l.tasks.length, nextPageToken: l.nextPageToken });
  } catch (e) {
    // a2a-js has no v0.3 list (no tasks/list, no GET /v1/tasks); its legacy clients throw
    // before sending. Anything else is a real failure.
    if (!v1 && /no equivalent|not supported|tasks\/list|Method not found/i.test(e?.message ?? '')) report('list', true, { skipped: 'no list in v0.3', error: errInfo(e) });
    else report('list', false, { error: errInfo(e) });
  }

  // --- subscribe: keep the stream open in the background to see the cancel arrive -----------
  const abort = new AbortController();
  const events = [];
  let streamClosed = false, streamError;
  let firstEvent;
  const gotFirst = new Promise((r) => { firstEvent = r; });
  const pump = (async () => {
    try {
      for await (const ev of client.resubscribeTask({ tenant: '', id: task.id }, { signal: abort.signal })) {
        events.push(ev);
        firstEvent();
      }
      streamClosed = true;
    } catch (e) { streamError = e; } finally { firstEvent(); }
  })();
  await Promise.race([gotFirst, sleep(5000)]);
  report('subscribe', events.length > 0, { events: events.map((e) => e.payload?.$case), error: streamError && errInfo(streamError) });

  // --- cancel ------------------------------------------------------------------------------------
  try {
    const c = await within(10000, client.cancelTask({ tenant: '', id: task.id, metadata: undefined }), 'cancelTask');
    let state = c?.status?.state, via = 'cancel-answer';
    for (let i = 0; state !== ST.CANCELED && i < 20; i++) { // cooperative cancel: allow 5 s
      await sleep(250);
      state = (await within(5000, client.getTask({ tenant: '', id: task.id }), 'getTask')).status?.state;
      via = 'get-after-cancel';
    }
    report('cancel', state === ST.CANCELED, { state, via });
  } catch (e) { report('cancel', false, { error: errInfo(e) }); }

  // --- the open subscription must end with a CANCELED status update and close ---------------
  await Promise.race([pump, sleep(5000)]);
  const last = events.at(-1)?.payload;
  const lastState = last?.$case === 'statusUpdate' ? last.value.status?.state : last?.$case === 'task' ? last.value.status?.state : undefined;
  report('subscribe-final', lastState === ST.CANCELED && streamClosed,
    { lastEvent: last?.$case, lastState, closed: streamClosed, events: events.length, error: streamError && errInfo(streamError) });
  abort.abort();

  // --- unknown task ----------------------------------------------------------------------------
  try {
    const t = await within(10000, client.getTask({ tenant: '', id: `no-such-task-${randomUUID()}` }), 'getTask unknown');
    report('get-unknown', false, { unexpected: 'a task', state: t?.status?.state });
  } catch (e) { report('get-unknown', isErr(e, -32001, 'TASK_NOT_FOUND', 404), { error: errInfo(e) }); }

  // --- cancel of a terminal task. Not the canceled one: re-cancelling a CANCELED task is not
  // an error on a2a-js (it returns the task), so complete a fresh task and cancel that. ------
  try {
    let t = await within(10000, client.sendMessage(sendReq(opt['quick-text'], false)), 'sendMessage quick');
    for (let i = 0; t?.status && !TERMINAL.includes(t.status.state) && i < 40; i++) {
      await sleep(250);
      t = await within(5000, client.getTask({ tenant: '', id: t.id }), 'getTask quick');
    }
    if (!t?.status || t.status.state !== ST.COMPLETED) {
      report('cancel-terminal', false, { problem: `"${opt['quick-text']}" did not give a COMPLETED task`, state: t?.status?.state });
    } else {
      try {
        const c = await within(10000, client.cancelTask({ tenant: '', id: t.id, metadata: undefined }), 'cancel terminal');
        report('cancel-terminal', false, { unexpected: 'cancel succeeded', state: c?.status?.state });
      } catch (e) { report('cancel-terminal', isErr(e, -32002, 'TASK_NOT_CANCELABLE', 400), { error: errInfo(e) }); }
    }
  } catch (e) { report('cancel-terminal', false, { error: errInfo(e) }); }
}

try { await main(); } catch (e) { report('unexpected', false, { error: errInfo(e) }); }
process.exit(failures ? 1 : 0);
