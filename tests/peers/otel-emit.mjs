// Emits one GenAI agent run with the official OpenTelemetry JS SDK and OTLP/HTTP exporter
// (PROTOCOLS.md section 6.3), so that tests see exactly what a real instrumented agent sends.
//
//   node otel-emit.mjs --url http://127.0.0.1:PORT/v1/traces --protocol json|proto [--scenario basic]
//
// stdout: `SENT <trace id hex> <number of spans>` once every span was accepted by the receiver.
// Exit 0 on success, 1 when an export failed, 2 on a usage error.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const USAGE = 'usage: node otel-emit.mjs --url http://127.0.0.1:PORT/v1/traces --protocol json|proto [--scenario basic]';

function usageError(message) {
    process.stderr.write(`otel-emit: ${message}\n${USAGE}\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const opts = { url: '', protocol: '', scenario: 'basic' };
    for (let i = 0; i < argv.length; ++i) {
        const arg = argv[i];
        const key = { '--url': 'url', '--protocol': 'protocol', '--scenario': 'scenario' }[arg];
        if (!key)
            usageError(`unknown argument '${arg}'`);
        if (i + 1 >= argv.length)
            usageError(`${arg} needs a value`);
        opts[key] = argv[++i];
    }
    if (!opts.url)
        usageError('--url is required');
    if (opts.protocol !== 'json' && opts.protocol !== 'proto')
        usageError(`--protocol must be json or proto, not '${opts.protocol}'`);
    if (opts.scenario !== 'basic')
        usageError(`unknown scenario '${opts.scenario}'`);
    return opts;
}

// Wraps the exporter to remember every failed export: SimpleSpanProcessor reports failures only to
// the global error handler once they have settled, so forceFlush() alone can miss them.
class RecordingExporter {
    constructor(inner) {
        this.inner = inner;
        this.exported = 0;
        this.failures = [];
    }
    export(spans, resultCallback) {
        this.inner.export(spans, (result) => {
            if (result.code === 0) // ExportResultCode.SUCCESS
                this.exported += spans.length;
            else
                this.failures.push(describeError(result.error, result.code));
            resultCallback(result);
        });
    }
    forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
    shutdown() { return this.inner.shutdown(); }
}

// The exporter's own words: OTLPExporterError carries the HTTP status in `code` and the body in `data`.
function describeError(error, resultCode) {
    if (!error)
        return `export failed with result code ${resultCode}`;
    let text = error.message || String(error);
    if (error.code !== undefined && /^[0-9]+$/.test(String(error.code)))
        text += ` (HTTP ${error.code})`;
    if (error.data)
        text += `: ${String(error.data).slice(0, 300)}`;
    return text;
}

// Times on a virtual timeline that ends now: a run of about 2.4 s, in milliseconds since the epoch.
function timeline() {
    const t0 = Date.now() - 2400;
    return (offsetMs) => t0 + offsetMs;
}

// The "basic" scenario: a refund agent that retrieves the ticket, asks the model, calls a tool that
// fails once and then succeeds, and checks a dependency's health. Children end before the root.
function emitBasic(tracer) {
    const at = timeline();
    const root = tracer.startSpan('invoke_agent refund-agent', {
        kind: SpanKind.INTERNAL,
        startTime: at(0),
        attributes: {
            'gen_ai.operation.name': 'invoke_agent',
            'gen_ai.agent.name': 'refund-agent',
            'gen_ai.agent.id': 'agent_refund_01',
            'gen_ai.conversation.id': 'conv_7f3a9c',
            'gen_ai.provider.name': 'openai',
            'enduser.id': 'user:ada@example.com',
        },
    });
    const inRoot = trace.setSpan(context.active(), root);
    let count = 0;
    const child = (name, kind, start, end, attributes, finish) => {
        const span = tracer.startSpan(name, { kind, startTime: at(start), attributes }, inRoot);
        if (finish)
            finish(span);
        span.end(at(end));
        ++count;
        return span;
    };

    child('retrieval zendesk.tickets', SpanKind.CLIENT, 20, 180, {
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.provider.name': 'openai',
        'gen_ai.data_source.id': 'zendesk.tickets',
    });
    child('chat gpt-4o', SpanKind.CLIENT, 200, 1400, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': 'chatcmpl-9Qx2ReFuNd',
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 33,
        'gen_ai.response.finish_reasons': ['tool_calls'],
        'server.address': 'api.openai.com',
        'server.port': 443,
    });
    root.addEvent('approval.requested', {
        'gen_ai.tool.name': 'stripe.refund',
        'gen_ai.tool.call.id': 'call_refund_1',
    }, at(1410));
    child('execute_tool stripe.refund', SpanKind.INTERNAL, 1500, 1800, {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'stripe.refund',
        'gen_ai.tool.call.id': 'call_refund_1',
        'gen_ai.tool.type': 'function',
        'error.type': 'rate_limit_error',
    }, (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'Too many requests hit the API too quickly.' }));
    child('execute_tool stripe.refund', SpanKind.INTERNAL, 1900, 2150, {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'stripe.refund',
        'gen_ai.tool.call.id': 'call_refund_2',
        'gen_ai.tool.type': 'function',
    });
    child('GET /healthz', SpanKind.CLIENT, 2200, 2250, {
        'http.request.method': 'GET',
        'url.full': 'http://billing.internal:8080/healthz',
        'server.address': 'billing.internal',
        'server.port': 8080,
        'http.response.status_code': 200,
    });

    root.end(at(2400));
    return { traceId: root.spanContext().traceId, count: count + 1 };
}

async function main() {
    const opts = parseArgs(process.argv.slice(2));

    const module = opts.protocol === 'json'
        ? await import('@opentelemetry/exporter-trace-otlp-http')
        : await import('@opentelemetry/exporter-trace-otlp-proto');
    const exporter = new RecordingExporter(new module.OTLPTraceExporter({ url: opts.url }));
    const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'peer-agent', 'service.version': '1.4.2' }),
        spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('breaker-peer-agent', '0.1.0');

    const { traceId, count } = emitBasic(tracer);

    let flushError = null;
    try {
        await provider.forceFlush();
    } catch (err) {
        flushError = err;
    }
    await provider.shutdown();

    if (exporter.failures.length > 0 || flushError || exporter.exported !== count) {
        const reasons = exporter.failures.length > 0 ? [...new Set(exporter.failures)]
                                                      : [flushError?.message ?? 'not every span reached the exporter'];
        process.stderr.write(`otel-emit: export to ${opts.url} failed: ${exporter.exported}/${count} spans accepted; `
                             + `${reasons.join('; ')}\n`);
        process.exit(1);
    }
    process.stdout.write(`SENT ${traceId} ${count}\n`);
}

main().catch((err) => {
    process.stderr.write(`otel-emit: ${err?.stack ?? err}\n`);
    process.exit(1);
});
