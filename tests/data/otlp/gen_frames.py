#!/usr/bin/env python3
"""Writes the crafted OTLP frames in this folder (tst_otlpcodec and the fuzz seeds use them).

The otlp_*.json / otlp_proto_chat_span.bin files are the recorded samples (copied from
shared/specs/samples); everything named json_* / proto_* is generated here. Run it again after
editing: python3 tests/data/otlp/gen_frames.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TRACE = "dcde135ac7f6ae4581ab8935a66b8fc0"
ROOT = "4823e6c6398b533f"


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(HERE, name), mode) as f:
        f.write(data)


# --- JSON -------------------------------------------------------------------------------

def s(v):
    return {"stringValue": v}


def attr(k, v):
    return {"key": k, "value": v}


def span(span_id, name="chat gpt-4o", start="1795665566993000000", end="1795665566993070219",
         attrs=None, **extra):
    sp = {"traceId": TRACE, "spanId": span_id, "parentSpanId": ROOT, "name": name, "kind": 3,
          "startTimeUnixNano": start, "endTimeUnixNano": end, "attributes": attrs or [],
          "status": {"code": 0}, "flags": 257}
    sp.update(extra)
    return sp


def request(spans, resource_attrs=None):
    return {"resourceSpans": [{
        "resource": {"attributes": resource_attrs or [attr("service.name", s("loopback-agent"))]},
        "scopeSpans": [{"scope": {"name": "crafted", "version": "1"}, "spans": spans}]}]}


def dump(obj):
    return json.dumps(obj, separators=(",", ":"))


GOOD = span("1111111111111111", name="good span")

write("json_int_as_string.json", dump(request([span("c23ed9cb617b3c0a", attrs=[
    attr("gen_ai.usage.input_tokens", {"intValue": "120"}),
    attr("gen_ai.usage.output_tokens", {"intValue": 33})])])))

write("json_times_as_numbers.json", dump(request([span(
    "c23ed9cb617b3c0a", start=1795665566993000000, end=1795665566993070219)])))

unknown = request([span("c23ed9cb617b3c0a", attrs=[
    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o", "futureValue": [1, {"a": None}]},
     "keyStrindex": 4}],
    futureSpanField={"nested": [1, 2, {"x": None}], "s": "t"}, traceState="k=v",
    links=[{"traceId": TRACE, "spanId": ROOT, "attributes": []}], droppedLinksCount=0)])
unknown["futureTopLevel"] = {"a": [True, False, None]}
unknown["resourceSpans"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.30.0"
unknown["resourceSpans"][0]["resource"]["entityRefs"] = [{"type": "service"}]
unknown["resourceSpans"][0]["scopeSpans"][0]["scope"]["attributes"] = [attr("x", s("y"))]
write("json_unknown_fields.json", dump(unknown))

chat = open(os.path.join(HERE, "otlp_json_chat_span.json")).read()
write("json_truncated.json", chat[: len(chat) // 2])
write("json_not_json.txt", "this is not JSON, it is a sentence.\n")
write("json_empty_object.json", "{}")
write("json_resource_spans_not_array.json", '{"resourceSpans":{"resource":{}}}')
write("json_root_array.json", '[{"resourceSpans":[]}]')
write("json_trailing_garbage.json", dump(request([GOOD])) + " xx")
write("json_bad_literal.json", '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":tru}]}]}]}')

write("json_bad_span_id_length.json", dump(request([span("c23ed9cb617b3c0", name="short id"), GOOD])))
write("json_non_hex_id.json", dump(request([
    dict(span("c23ed9cb617b3c0a"), traceId="zzde135ac7f6ae4581ab8935a66b8fc0"), GOOD])))
write("json_start_after_end.json", dump(request([
    span("c23ed9cb617b3c0a", start="1795665566993070219", end="1795665566993000000"), GOOD])))
write("json_wrong_types.json", dump(request([
    dict(span("2222222222222222"), name=42),
    dict(span("3333333333333333"), kind="SPAN_KIND_CLIENT"),
    span("4444444444444444", attrs=[attr("gen_ai.usage.input_tokens", {"intValue": "abc"})]),
    dict(span("5555555555555555"), startTimeUnixNano=True),
    dict(span("6666666666666666"), attributes={"not": "an array"}),
    GOOD])))
missing = span("7777777777777777")
del missing["traceId"]
write("json_missing_ids.json", dump(request([
    missing, dict(span("0000000000000000")), dict(span("8888888888888888"), parentSpanId="abc"),
    GOOD])))
write("json_zero_parent_uppercase.json", dump(request([dict(
    span("C23ED9CB617B3C0A"), traceId=TRACE.upper(), parentSpanId="0000000000000000")])))
write("json_value_before_key.json", dump(request([span("c23ed9cb617b3c0a", attrs=[
    {"value": s("gpt-4o"), "key": "gen_ai.request.model"}])])))

deep = s("bottom")
for _ in range(40):
    deep = {"arrayValue": {"values": [deep]}}
write("json_deep_nesting.json", dump(request([span("9999999999999999", attrs=[attr("deep", deep)]), GOOD])))

write("json_deprecated_names.json", dump(request([span("c23ed9cb617b3c0a", attrs=[
    attr("gen_ai.system", s("anthropic")),
    attr("gen_ai.usage.prompt_tokens", {"intValue": 7}),
    attr("gen_ai.usage.completion_tokens", {"intValue": "9"}),
    attr("db.system", s("postgresql")),
    attr("db.namespace", s("crm")),
]), span("d23ed9cb617b3c0a", attrs=[
    # the current names win whatever the order
    attr("gen_ai.provider.name", s("openai")),
    attr("gen_ai.system", s("anthropic")),
    attr("gen_ai.usage.prompt_tokens", {"intValue": 1}),
    attr("gen_ai.usage.input_tokens", {"intValue": 2}),
    attr("db.collection.name", s("customers")),
    attr("gen_ai.data_source.id", s("kb-7")),
    attr("db.namespace", s("crm")),
    attr("db.system.name", s("mysql")),
    attr("db.system", s("postgresql")),
])])))

write("json_redaction.json", dump(request([span("c23ed9cb617b3c0a", name="execute_tool pay", attrs=[
    attr("gen_ai.tool.name", s("pay")),
    attr("gen_ai.tool.call.arguments", s('{"card":"4242424242424242","cvc":"123"}')),
    attr("gen_ai.tool.call.result", s("token=sk_live_secret")),
    attr("gen_ai.input.messages", {"arrayValue": {"values": [
        {"kvlistValue": {"values": [attr("role", s("user")), attr("content", s("my password is hunter2"))]}}]}}),
    attr("gen_ai.output.messages", s("hunter2")),
    attr("gen_ai.system_instructions", s("secret system prompt")),
], events=[{"name": "gen_ai.client.inference.operation.details", "timeUnixNano": "1795665566993000001",
            "attributes": [attr("gen_ai.input.messages", s("hunter2 in an event")),
                           attr("kept", s("visible"))]}])])))

write("json_resource_lift.json", dump({"resourceSpans": [{
    # scopeSpans before resource: the resource still applies to the spans
    "scopeSpans": [{"spans": [
        span("c23ed9cb617b3c0a", attrs=[attr("gen_ai.agent.name", s("SpanAgent"))]),
        span("d23ed9cb617b3c0a")]}],
    "resource": {"attributes": [
        attr("service.name", s("billing-agent")),
        attr("gen_ai.agent.name", s("ResourceAgent")),
        attr("enduser.id", s("user:alice")),
        attr("gen_ai.usage.input_tokens", {"intValue": 5})]}}]}))

write("json_delegation_spend.json", dump(request([span("c23ed9cb617b3c0a", attrs=[
    attr("breaker.delegation", {"arrayValue": {"values": [s("user:alice"), s("agent:planner"), s('agent:"pay"')]}}),
    attr("breaker.spend.amount_minor", {"intValue": "1999"}),
    attr("breaker.spend.currency", s("eur")),
    attr("breaker.policy.decision", s("deny")),
    attr("breaker.policy.reason", s("over limit")),
    attr("enduser.id", s("user:alice")),
    attr("a2a.task.id", s("task-1")),
    attr("a2a.task.state", s("working")),
    attr("langgraph.thread_id", s("th-1")),
    attr("langgraph.run_id", s("run-1")),
    attr("gen_ai.workflow.name", s("refunds")),
]), span("d23ed9cb617b3c0a", attrs=[attr("breaker.delegation", s("user:bob, agent:a"))])])))

write("json_null_fields.json", dump(request([dict(
    span("c23ed9cb617b3c0a", attrs=[attr("empty", None), {"key": "novalue"}]),
    parentSpanId=None, events=None, links=None, status=None, traceState=None)])))

write("json_value_types.json", dump(request([span("c23ed9cb617b3c0a", attrs=[
    attr("s", s('quote " backslash \\ newline \n tab \t ctrl \u0001 é')),
    attr("b", {"boolValue": True}),
    attr("i", {"intValue": "-9223372036854775808"}),
    attr("d", {"doubleValue": 0.25}),
    attr("nan", {"doubleValue": "NaN"}),
    attr("bytes", {"bytesValue": "AAEC/w=="}),
    attr("arr", {"arrayValue": {"values": [{"intValue": 1}, s("two"), {"arrayValue": {}}]}}),
    attr("kv", {"kvlistValue": {"values": [attr("a", {"boolValue": False}), {"key": "n"}]}}),
    attr("empty", {}),
])])))

# --- Protobuf ---------------------------------------------------------------------------


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(field, wt):
    return varint(field << 3 | wt)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return tag(field, 2) + varint(len(payload)) + payload


def f64(field, v):
    return tag(field, 1) + struct.pack("<Q", v)


def f32(field, v):
    return tag(field, 5) + struct.pack("<I", v)


def vi(field, v):
    return tag(field, 0) + varint(v)


def kv(key, anyvalue):
    return ld(1, key) + ld(2, anyvalue)


def pstr(v):
    return ld(1, v)


def pint(v):
    return vi(3, v)


def pspan(span_id=bytes.fromhex("1111111111111111"), name="good span", start=1795665566993000000,
          end=1795665566993070219, attrs=b"", trace=bytes.fromhex(TRACE), extra=b""):
    return (ld(1, trace) + ld(2, span_id) + ld(4, bytes.fromhex(ROOT)) + ld(5, name) + vi(6, 3)
            + f64(7, start) + f64(8, end) + attrs + ld(15, vi(3, 0)) + f32(16, 257) + extra)


def preq(spans, resource=kv("service.name", pstr("loopback-agent"))):
    scope = ld(1, ld(1, "crafted") + ld(2, "1"))
    ss = scope + b"".join(ld(2, sp) for sp in spans)
    return ld(1, ld(1, ld(1, resource) if resource else b"") + ld(2, ss))


PGOOD = pspan()
sample = open(os.path.join(HERE, "otlp_proto_chat_span.bin"), "rb").read()

write("proto_garbage.bin", b"\xff" * 12 + b"garbage")
write("proto_truncated.bin", sample[: len(sample) - 20])
write("proto_length_past_end.bin", b"\x0a\x7f\x0a\x02\x0a\x00")
write("proto_group.bin", b"\x0b\x0c")
write("proto_bad_trace_id_length.bin", preq([pspan(trace=bytes(range(1, 16))), PGOOD]))
write("proto_wrong_wire_type.bin", preq([pspan(extra=vi(5, 7)), PGOOD]))
write("proto_start_after_end.bin", preq([pspan(start=20, end=10), PGOOD]))
write("proto_invalid_utf8.bin", preq([pspan(name=b"bad \xff name"), PGOOD]))
write("proto_missing_span_id.bin", preq([
    ld(1, bytes.fromhex(TRACE)) + ld(5, "no span id") + f64(7, 1) + f64(8, 2), PGOOD]))

unknown_fields = vi(99, 1) + f64(98, 2) + ld(97, b"\x08\x01") + f32(96, 3)
write("proto_unknown_fields.bin",
      unknown_fields + ld(1, unknown_fields
                          + ld(1, unknown_fields + ld(1, ld(1, "service.name") + unknown_fields
                                                          + ld(2, pstr("svc") + unknown_fields)))
                          + ld(2, unknown_fields + ld(1, ld(1, "s") + unknown_fields)
                               + ld(2, pspan(attrs=ld(9, kv("gen_ai.request.model",
                                                            pstr("gpt-4o") + ld(8, b"\x01"))),
                                             extra=unknown_fields + ld(13, ld(1, bytes(16)))
                                             + ld(3, "k=v") + vi(10, 0))))))
write("proto_negative_int.bin", preq([pspan(attrs=ld(9, kv("n", pint(-5)))
                                            + ld(9, kv("gen_ai.usage.input_tokens", pint(120))))]))
write("proto_deprecated_names.bin", preq([pspan(attrs=ld(9, kv("gen_ai.system", pstr("anthropic")))
                                                + ld(9, kv("gen_ai.usage.prompt_tokens", pint(7)))
                                                + ld(9, kv("gen_ai.usage.completion_tokens", pint(9))))]))
deep_p = pstr("bottom")
for _ in range(40):
    deep_p = ld(5, ld(1, deep_p))
write("proto_deep_nesting.bin", preq([pspan(span_id=bytes.fromhex("9999999999999999"),
                                            attrs=ld(9, kv("deep", deep_p))), PGOOD]))
write("proto_value_types.bin", preq([pspan(attrs=
    ld(9, kv("b", vi(2, 1))) + ld(9, kv("d", f64(4, struct.unpack("<Q", struct.pack("<d", 0.25))[0])))
    + ld(9, kv("bytes", ld(7, b"\x00\x01\x02\xff")))
    + ld(9, kv("arr", ld(5, ld(1, pint(1)) + ld(1, pstr("two")))))
    + ld(9, kv("kv", ld(6, ld(1, kv("a", vi(2, 0))) + ld(1, ld(1, "n")))))
    + ld(9, ld(1, "empty") + ld(2, b"")),
    extra=ld(11, f64(1, 1795665566993000001) + ld(2, "approval.requested")
             + ld(3, kv("tool", pstr("get_weather")))))]))
