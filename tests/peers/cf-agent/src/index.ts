// A small agent with the pieces Breaker's cloudflare-agents connector drives:
// - state {status, step, steps, note} broadcast on every change (cf_agent_state);
// - work(steps, stepMs): a slow streaming @callable that reports each step;
// - stop(): the @callable a profile names as stop_method; it makes work() end early;
// - fail(): a @callable that throws, for the error answer;
// - ping(): a plain @callable.
import { Agent, callable, routeAgentRequest, type StreamingResponse } from "agents";

type WorkState = { status: string; step: number; steps: number; note: string };

export class WorkAgent extends Agent<unknown, WorkState> {
  initialState: WorkState = { status: "idle", step: 0, steps: 0, note: "" };
  private stopRequested = false;

  @callable()
  ping(word: string) {
    return { pong: word };
  }

  @callable({ streaming: true })
  async work(stream: StreamingResponse, steps: number, stepMs: number) {
    this.stopRequested = false;
    this.setState({ status: "working", step: 0, steps, note: "" });
    for (let i = 1; i <= steps; i++) {
      await new Promise((r) => setTimeout(r, stepMs));
      if (this.stopRequested) {
        this.setState({ ...this.state, status: "stopped", note: "stopped at step " + i });
        stream.end({ stopped: true, step: i });
        return;
      }
      this.setState({ ...this.state, step: i });
      stream.send({ step: i });
    }
    this.setState({ ...this.state, status: "done" });
    stream.end({ done: true, steps });
  }

  @callable()
  stop() {
    this.stopRequested = true;
    if (this.state.status !== "working") return { stopped: false, status: this.state.status };
    this.setState({ ...this.state, status: "stopping" });
    return { stopped: true };
  }

  @callable()
  fail(reason: string) {
    throw new Error("refused: " + reason);
  }
}

export default {
  async fetch(request: Request, env: unknown) {
    return (await routeAgentRequest(request, env as Record<string, unknown>)) ?? new Response("Not found", { status: 404 });
  },
};
