#!/usr/bin/env node
// A test OTLP/HTTP receiver. It decodes requests with OpenTelemetry JS's generated
// protobuf code (@opentelemetry/otlp-transformer's protobufjs root), never with the
// collector's own .proto files, and writes each request as one JSON line.
//
//   node receiver.js --port-file F --out F.jsonl [--fail-first N --fail-status 503]
//                    [--partial N] [--count-only]
'use strict';
const fs = require('fs');
const http = require('http');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const pb = root.opentelemetry.proto.collector;
const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--count-only') args.countOnly = true;
  else args[a.replace(/^--/, '')] = process.argv[++i];
}
const failFirst = Number(args['fail-first'] || 0);
const failStatus = Number(args['fail-status'] || 503);
const partial = Number(args.partial || 0);
const out = args.out ? fs.openSync(args.out, 'a') : null;
let requests = 0;

const toHex = (b64) => Buffer.from(b64, 'base64').toString('hex');

// protobufjs objects and OTLP JSON to one shape: ids as hex, int64 as strings.
function normalize(obj, fromProtobuf) {
  if (Array.isArray(obj)) return obj.map((v) => normalize(v, fromProtobuf));
  if (obj && typeof obj === 'object') {
    const o = {};
    for (const [k, v] of Object.entries(obj)) {
      o[k] = fromProtobuf && /^(traceId|spanId|parentSpanId)$/.test(k) ? toHex(v) : normalize(v, fromProtobuf);
    }
    return o;
  }
  return obj;
}

function decode(path, body, json) {
  const type = path === '/v1/traces' ? pb.trace.v1.ExportTraceServiceRequest : pb.logs.v1.ExportLogsServiceRequest;
  if (json) return normalize(JSON.parse(body.toString('utf8')), false);
  const msg = type.decode(body);
  return normalize(type.toObject(msg, { longs: String, enums: Number, bytes: String }), true);
}

function respond(res, path, json, rejected) {
  const logs = path !== '/v1/traces';
  const ps = rejected ? { partialSuccess: logs ? { rejectedLogRecords: rejected, errorMessage: 'test rejects' } : { rejectedSpans: rejected, errorMessage: 'test rejects' } } : {};
  if (json) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(rejected ? { partialSuccess: { ...Object.values(ps)[0], [logs ? 'rejectedLogRecords' : 'rejectedSpans']: String(rejected) } } : {}));
    return;
  }
  const type = logs ? pb.logs.v1.ExportLogsServiceResponse : pb.trace.v1.ExportTraceServiceResponse;
  res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
  res.end(Buffer.from(type.encode(type.fromObject(ps)).finish()));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests++;
    if (requests <= failFirst) {
      res.writeHead(failStatus, { 'Retry-After': '0' });
      res.end();
      return;
    }
    if (args.countOnly) {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
      return;
    }
    let body = Buffer.concat(chunks);
    const gzip = req.headers['content-encoding'] === 'gzip';
    const json = (req.headers['content-type'] || '').startsWith('application/json');
    try {
      if (gzip) body = zlib.gunzipSync(body);
      const decoded = decode(req.url, body, json);
      if (out) fs.writeSync(out, JSON.stringify({ path: req.url, gzip, json, headers: { authorization: req.headers.authorization || null }, request: decoded }) + '\n');
      respond(res, req.url, json, partial);
    } catch (e) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const tmp = args['port-file'] + '.tmp';
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, args['port-file']);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
