// a2a-peer.mjs: a real A2A server built on @a2a-js/sdk 1.3.0 + express 5 (PROTOCOLS.md §6.1).
//
// Usage: node a2a-peer.mjs [--seed N]
//   Binds 127.0.0.1:0 and prints exactly "LISTENING <port>" once the routes are mounted.
//   Serves A2A v1.0 and (through legacyCompat) v0.3:
//     GET  /.well-known/agent-card.json   card (v1.0 shape with "A2A-Version: 1.0", v0.3 shape without)
//     POST /a2a/jsonrpc                   JSON-RPC (v1.0 "SendMessage"..., v0.3 "message/send"...)
//     *    /a2a/rest/...                  HTTP+JSON (v1.0 "/message:send"..., v0.3 "/v1/message:send"...)
//   --seed N  creates N completed tasks at start (contextIds alternate "ctx-seed-a"/"ctx-seed-b"),
//             so ListTasks paging can be tested without sending messages first.
//   Ends on SIGTERM/SIGINT, or when stdin closes (so a harness that dies does not leak us).
//   NB: because of the stdin rule, run it from a shell with a pipe held open, e.g.
//       `sleep infinity | node a2a-peer.mjs`, not with stdin=/dev/null.
//
// The executor's behaviour is chosen by the first text part of the user's message:
//   "quick"      -> completes at once with an artifact
//   "work <ms>"  -> SUBMITTED, WORKING, then an update every ~250 ms (status and artifact chunks
//                   alternate) until <ms> elapsed, then COMPLETED. cancelTask wakes the loop,
//                   which publishes CANCELED (final) promptly: cancellation is cooperative.
//   "ask"        -> INPUT_REQUIRED with an approval question (text part + data part). A reply on
//                   the same taskId+contextId carrying a data part {"decision":...} completes it.
//   anything else -> completes at once.
import express from 'express';
import { randomUUID } from 'node:crypto';
import {
  AgentEvent, DefaultRequestHandler, InMemoryTaskStore, ServerCallContext, UnauthenticatedUser,
} from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import { duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';

// Internal enum values (lf.a2a.v1.TaskState / Role); the SDK maps them to strings on the wire.
const S = { SUBMITTED: 1, WORKING: 2, COMPLETED: 3, CANCELED: 5, INPUT_REQUIRED: 6 };
const ROLE_AGENT = 2;

const args = process.argv.slice(2);
const seedIdx = args.indexOf('--seed');
const seedCount = seedIdx >= 0 ? Number(args[seedIdx + 1] ?? 0) : 0;

// --- small builders for the SDK's internal (proto-shaped) objects --------------------------
const now = () => new Date().toISOString();
const textPart = (value) => ({ content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: undefined });
const dataPart = (value) => ({ content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: undefined });
const agentMsg = (taskId, contextId, parts) => ({
  messageId: randomUUID(), taskId, contextId, role: ROLE_AGENT, parts,
  metadata: undefined, extensions: [], referenceTaskIds: [],
});
const firstText = (msg) => msg?.parts?.find((p) => p.content?.$case === 'text')?.content.value ?? '';
const firstData = (msg) => msg?.parts?.find((p) => p.content?.$case === 'data')?.content.value;

function publishStatus(bus, taskId, contextId, state, message) {
  bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: { state, message, timestamp: now() }, metadata: undefined }));
}
function publishArtifact(bus, taskId, contextId, artifactId, name, parts, append = false, lastChunk = true) {
  bus.publish(AgentEvent.artifactUpdate({
    taskId, contextId, append, lastChunk, metadata: undefined,
    artifact: { artifactId, name, description: '', parts, metadata: undefined, extensions: [] },
  }));
}
function completeWith(bus, taskId, contextId, text) {
  publishArtifact(bus, taskId, contextId, randomUUID(), 'result', [textPart(text)]);
  publishStatus(bus, taskId, contextId, S.COMPLETED, undefined);
}

const APPROVAL_TEXT = 'Refund of 1250.00 USD to customer cus_42 exceeds the 500 USD threshold. Approve?';
const APPROVAL_DATA = {
  approval: {
    action: 'stripe.refund',
    arguments: { customer: 'cus_42', amount_minor: 125000 },
    amount: { value: '1250.00', currency: 'usd' },
  },
};

// taskId -> wake() for running "work" loops; cancelTask uses it to stop them cooperatively.
const running = new Map();

const executor = {
  async execute(ctx, bus) {
    const { taskId, contextId } = ctx;
    const msg = ctx.userMessage;
    // The SDK requires the first event of *every* execute call to be a task (or message),
    // also on follow-up turns, so republish the stored task when there is one.
    const task = ctx.task ?? {
      id: taskId, contextId, status: { state: S.SUBMITTED, message: undefined, timestamp: now() },
      artifacts: [], history: [msg], metadata: undefined,
    };
    bus.publish(AgentEvent.task(task));

    // Follow-up on an approval gate: the reply's data part carries the decision.
    if (ctx.task?.status?.state === S.INPUT_REQUIRED) {
      const reply = firstData(msg);
      if (!reply || !['approve', 'deny', 'edit'].includes(reply.decision)) {
        // Not an answer we understand: ask again, keep the gate open.
        publishStatus(bus, taskId, contextId, S.INPUT_REQUIRED,
          agentMsg(taskId, contextId, [textPart(APPROVAL_TEXT), dataPart(APPROVAL_DATA)]));
        return;
      }
      // Deny also ends COMPLETED (not FAILED/REJECTED): the agent finished its job, which was to
      // get a decision; the artifact says what was decided so the operator UI can show it.
      const echo = { decision: reply.decision, reason: reply.reason ?? null };
      if (reply.arguments !== undefined) echo.arguments = reply.arguments;
      publishStatus(bus, taskId, contextId, S.WORKING, undefined);
      publishArtifact(bus, taskId, contextId, randomUUID(), 'decision',
        [textPart(`decision: ${reply.decision}`), dataPart(echo)]);
      publishStatus(bus, taskId, contextId, S.COMPLETED, undefined);
      return;
    }

    const text = firstText(msg).trim();
    if (text === 'ask') {
      publishStatus(bus, taskId, contextId, S.INPUT_REQUIRED,
        agentMsg(taskId, contextId, [textPart(APPROVAL_TEXT), dataPart(APPROVAL_DATA)]));
      return;
    }
    const work = /^work\s+(\d+)$/.exec(text);
    if (work) return runWork(bus, taskId, contextId, Number(work[1]));
    completeWith(bus, taskId, contextId, text === 'quick' ? 'quick done' : `done: ${text}`);
  },

  async cancelTask(taskId, bus) {
    const wake = running.get(taskId);
    if (wake) return wake(); // the work loop publishes CANCELED itself
    // Nothing running (e.g. parked in INPUT_REQUIRED): publish CANCELED here so the handler,
    // which waits on this bus for a terminal state, gets one.
    const task = await store.load(taskId, new ServerCallContext({ user: new UnauthenticatedUser() }));
    publishStatus(bus, taskId, task?.contextId ?? '', S.CANCELED,
      agentMsg(taskId, task?.contextId ?? '', [textPart('Canceled.')]));
  },
};

async function runWork(bus, taskId, contextId, ms) {
  let canceled = false;
  let timer, resolveSleep;
  running.set(taskId, () => { canceled = true; clearTimeout(timer); resolveSleep?.(); });
  const sleep = (t) => new Promise((r) => { resolveSleep = r; timer = setTimeout(r, t); });
  try {
    publishStatus(bus, taskId, contextId, S.WORKING, agentMsg(taskId, contextId, [textPart(`working for ${ms} ms`)]));
    const artifactId = randomUUID();
    const end = Date.now() + ms;
    for (let tick = 1; Date.now() < end && !canceled; tick++) {
      await sleep(Math.min(250, Math.max(0, end - Date.now())));
      if (canceled || Date.now() >= end) break;
      // Alternate the two update kinds so clients see both; chunks use append:true after the first.
      if (tick % 2) publishArtifact(bus, taskId, contextId, artifactId, 'progress', [textPart(`tick ${tick}\n`)], tick > 1, false);
      else publishStatus(bus, taskId, contextId, S.WORKING, agentMsg(taskId, contextId, [textPart(`tick ${tick}`)]));
    }
    if (canceled) {
      publishStatus(bus, taskId, contextId, S.CANCELED, agentMsg(taskId, contextId, [textPart('Canceled by request.')]));
    } else {
      completeWith(bus, taskId, contextId, `worked ${ms} ms`);
    }
  } finally {
    running.delete(taskId);
  }
}

const store = new InMemoryTaskStore();
const app = express();
const server = app.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const base = `http://127.0.0.1:${port}`;
  // The card holds absolute URLs, so it can only be built once the port is known.
  const v1Interfaces = [
    { url: `${base}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
    { url: `${base}/a2a/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0', tenant: '' },
  ];
  const card = {
    name: 'Breaker test peer',
    description: 'a2a-js 1.3.0 loopback peer for Breaker tests (quick | work <ms> | ask)',
    // The SDK only serves v0.3 when the card lists v0.3 interfaces too.
    supportedInterfaces: duplicateInterfacesForLegacy(v1Interfaces, ['JSONRPC', 'HTTP+JSON']),
    provider: undefined,
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: [{
      id: 'test', name: 'test behaviours', description: 'quick, work <ms>, ask',
      tags: ['test'], examples: ['quick', 'work 30000', 'ask'], inputModes: [], outputModes: [], securityRequirements: [],
    }],
    signatures: [],
  };
  const handler = new DefaultRequestHandler(card, store, executor);
  const legacyCompat = { enabled: true };
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler, legacyCompat }));
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat }));
  app.use('/a2a/rest', restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat }));

  // Seed through the handler itself (same owner scope as unauthenticated requests).
  const seedCtx = new ServerCallContext({ user: new UnauthenticatedUser() });
  for (let i = 0; i < seedCount; i++) {
    await handler.sendMessage({
      message: {
        messageId: randomUUID(), contextId: i % 2 ? 'ctx-seed-b' : 'ctx-seed-a', taskId: '', role: 1,
        parts: [textPart('quick')], metadata: undefined, extensions: [], referenceTaskIds: [],
      },
      configuration: undefined, metadata: undefined, tenant: '',
    }, seedCtx);
  }
  console.log(`LISTENING ${port}`);
});

const stop = () => { server.closeAllConnections?.(); server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('close', stop).resume();
