#!/usr/bin/python3
"""Check the otlp sink's mapping: the events a file sink wrote against what the
Node receiver decoded (tools/otlp-receiver, OpenTelemetry JS's own protobuf code).

  otlp_check.py EVENTS.jsonl RECEIVED.jsonl [--types GLOB,...] [--spans]

Every event (of the listed types) must be one log record, every mapped field
right; with --spans every http.response must also be a span. Prints one line
per problem; exits 1 on any problem, 0 (silent) when all is right.
"""
import fnmatch
import json
import sys

DEPTH_MAX = 4
ATTRS_MAX = 64
problems = []


def bad(msg):
    if len(problems) < 30:
        print("  " + msg, file=sys.stderr)
    problems.append(msg)


def value(any_value):
    """A decoded AnyValue as a Python value (int64 come as strings)."""
    if "stringValue" in any_value:
        return any_value["stringValue"]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    if "doubleValue" in any_value:
        return float(any_value["doubleValue"])
    if "boolValue" in any_value:
        return any_value["boolValue"]
    return None


def attrs(kvs):
    return {kv["key"]: value(kv.get("value", {})) for kv in kvs or []}


def expected_data(data, prefix="", depth=1, out=None):
    """data flattened as the sink documents it: dotted keys, arrays and deep objects as JSON text."""
    out = {} if out is None else out
    for k, v in data.items():
        key = prefix + k
        if isinstance(v, dict) and depth < DEPTH_MAX:
            expected_data(v, key + ".", depth + 1, out)
        elif v is None:
            continue
        elif isinstance(v, (dict, list)):
            out[key] = ("json", v)
        else:
            out[key] = v
    return out


def severity(t):
    if "crash" in t or "fatal" in t:
        return 21, "FATAL"
    if "error" in t or "failed" in t:
        return 17, "ERROR"
    if "loss" in t or "warn" in t or "unhealthy" in t:
        return 13, "WARN"
    return 9, "INFO"


def main():
    events_path, received_path = sys.argv[1], sys.argv[2]
    types = ["*"]
    if "--types" in sys.argv:
        types = sys.argv[sys.argv.index("--types") + 1].split(",")
    want_spans = "--spans" in sys.argv
    events = [json.loads(l) for l in open(events_path) if l.strip()]
    events = [e for e in events if any(fnmatch.fnmatch(e["type"], g) for g in types)]
    records, spans, resources = {}, [], []
    for line in open(received_path):
        req = json.loads(line)["request"]
        for rl in req.get("resourceLogs", []):
            resources.append(attrs(rl.get("resource", {}).get("attributes")))
            for sl in rl.get("scopeLogs", []):
                if sl.get("scope", {}).get("name") != "collector":
                    bad("scope name is not collector")
                for r in sl.get("logRecords", []):
                    a = attrs(r.get("attributes"))
                    key = (a.get("collector.runner"), a.get("collector.seq"))
                    if key in records:
                        bad("record %s twice" % (key,))
                    records[key] = (r, a)
        for rs in req.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                spans.extend(ss.get("spans", []))
    for res in resources:
        if res.get("service.name") != "collector" or not isinstance(res.get("process.pid"), int):
            bad("resource attributes: %s" % res)
        if events and res.get("host.name") != events[0]["host"]:
            bad("resource host.name %s != %s" % (res.get("host.name"), events[0]["host"]))
    span_by_id = {s.get("spanId"): s for s in spans}
    for e in events:
        got = records.get((e["runner"], e["seq"]))
        if not got:
            bad("no record for %s seq %s (%s)" % (e["runner"], e["seq"], e["type"]))
            continue
        r, a = got
        if r.get("timeUnixNano") != str(e["ts_ns"]):
            bad("%s: timeUnixNano %s != ts_ns %s" % (e["type"], r.get("timeUnixNano"), e["ts_ns"]))
        if r.get("eventName") != e["type"]:
            bad("%s: eventName %s" % (e["type"], r.get("eventName")))
        if a.get("log.record.uid") != e.get("id"):
            bad("%s: log.record.uid %s != id %s" % (e["type"], a.get("log.record.uid"), e.get("id")))
        num, text = severity(e["type"])
        if r.get("severityNumber") != num or r.get("severityText") != text:
            bad("%s: severity %s %s" % (e["type"], r.get("severityNumber"), r.get("severityText")))
        for field, attr in (("pid", "process.pid"), ("tid", "thread.id"), ("ppid", "process.parent_pid"),
                            ("comm", "process.command")):
            if field in e and e[field] not in (None, "") and a.get(attr) != e[field]:
                bad("%s: %s %s != %s" % (e["type"], attr, a.get(attr), e[field]))
        data = e.get("data") or {}
        if isinstance(data, dict):
            exp = expected_data(data)
            body = data.get("line", data.get("message"))
            if isinstance(body, str) and value(r.get("body", {})) != body:
                bad("%s: body %r != %r" % (e["type"], r.get("body"), body))
            checked = 0
            for k, v in exp.items():
                if k not in a:
                    if len(a) >= ATTRS_MAX and r.get("droppedAttributesCount"):
                        continue
                    bad("%s: attribute %s missing" % (e["type"], k))
                    continue
                if isinstance(v, tuple):
                    ok = json.loads(a[k]) == v[1]
                elif isinstance(v, float):
                    ok = abs(a[k] - v) < 1e-9 * max(1, abs(v))
                else:
                    ok = a[k] == v
                if not ok:
                    bad("%s: attribute %s = %r, want %r" % (e["type"], k, a[k], v))
                checked += 1
            if len(exp) > ATTRS_MAX - 3 and not r.get("droppedAttributesCount"):
                bad("%s: %d attributes and no droppedAttributesCount" % (e["type"], len(exp)))
        if want_spans and e["type"] == "http.response":
            s = span_by_id.get(r.get("spanId"))
            if not s or s.get("traceId") != r.get("traceId") or len(r.get("traceId", "")) != 32:
                bad("http.response seq %s: no span with the record's trace/span id" % e["seq"])
                continue
            sa = attrs(s.get("attributes"))
            d = e["data"]
            want = {"http.request.method": d["method"], "url.path": d["path"],
                    "http.response.status_code": d["status"], "network.protocol.version": d["version"]}
            for k, v in want.items():
                if sa.get(k) != v:
                    bad("span %s: %s = %r, want %r" % (d["path"], k, sa.get(k), v))
            if s.get("endTimeUnixNano") != str(e["ts_ns"]) or \
                    s.get("startTimeUnixNano") != str(e["ts_ns"] - d["latency_ns"]):
                bad("span %s: times %s..%s" % (d["path"], s.get("startTimeUnixNano"), s.get("endTimeUnixNano")))
            if s.get("name") != d["method"] or s.get("kind") != 3:
                bad("span %s: name %s kind %s" % (d["path"], s.get("name"), s.get("kind")))
    if problems:
        sys.exit(1)


main()
