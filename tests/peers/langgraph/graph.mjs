// A small LangGraph graph for Breaker's tests (tests/integration/tst_langgraph_peer), served by
// `langgraphjs dev` (PROTOCOLS.md 6.4). No model calls.
//
// Input {"mode":"slow","steps":N,"delay_ms":M}: N steps of M ms each, one checkpoint per step,
// so a run can be cancelled while it runs and its state can be seen to change (or not).
// Input {"mode":"refund"}: asks a person through interrupt() with the payload of LangChain's
// human-in-the-loop middleware (action_requests / review_configs) for a refund of 1250.00 usd,
// then resumes according to the decision: {"decisions":[{"type":"approve"}]},
// {"type":"edit","edited_action":{"name","args"}} (editedAction accepted too) or
// {"type":"reject","message"}.
import { Annotation, END, START, StateGraph, interrupt } from '@langchain/langgraph';

const State = Annotation.Root({
  mode: Annotation({ reducer: (_, b) => b, default: () => 'slow' }),
  steps: Annotation({ reducer: (_, b) => b, default: () => 3 }),
  delay_ms: Annotation({ reducer: (_, b) => b, default: () => 1000 }),
  done: Annotation({ reducer: (_, b) => b, default: () => 0 }),
  log: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
  outcome: Annotation({ reducer: (_, b) => b, default: () => '' }),
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function work(state) {
  await sleep(Math.max(0, Number(state.delay_ms) || 0));
  const n = state.done + 1;
  return { done: n, log: [`step ${n} at ${new Date().toISOString()}`] };
}

const refundArgs = { charge: 'ch_3QxRefund1250', amount: '1250.00', currency: 'usd' };

function review() {
  const response = interrupt({
    action_requests: [
      {
        name: 'stripe.refund',
        args: refundArgs,
        description: 'Refund 1250.00 usd on charge ch_3QxRefund1250: above the 1000.00 usd threshold',
      },
    ],
    review_configs: [{ action_name: 'stripe.refund', allowed_decisions: ['approve', 'edit', 'reject'] }],
  });
  const decision = Array.isArray(response?.decisions) ? response.decisions[0] : undefined;
  switch (decision?.type) {
    case 'approve':
      return { outcome: `refunded ${refundArgs.amount} ${refundArgs.currency}`, log: ['approved'] };
    case 'edit': {
      const edited = decision.edited_action ?? decision.editedAction;
      if (!edited || typeof edited.args !== 'object')
        throw new Error('edit decision without edited_action.args');
      return { outcome: `refunded ${edited.args.amount} ${edited.args.currency}`, log: ['edited'] };
    }
    case 'reject':
      return { outcome: `refund rejected: ${decision.message ?? ''}`, log: ['rejected'] };
    default:
      throw new Error(`unexpected resume value: ${JSON.stringify(response)}`);
  }
}

export const graph = new StateGraph(State)
  .addNode('work', work)
  .addNode('review', review)
  .addConditionalEdges(START, (s) => (s.mode === 'refund' ? 'review' : 'work'), ['review', 'work'])
  .addConditionalEdges('work', (s) => (s.done < s.steps ? 'work' : END), ['work', END])
  .addEdge('review', END)
  .compile();
