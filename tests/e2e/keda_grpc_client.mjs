// A KEDA-like external scaler client: @grpc/grpc-js with the service loaded by @grpc/proto-loader
// from recommender/output/externalscaler.proto, driven by JSON lines on stdin, answering with JSON
// lines on stdout (every line carries t, the wall time in ms, so the driver can time pushes).
//
//   {"id": 1, "call": "GetMetrics", "request": {...}}   → {"id": 1, "ok": true, "response": {...}}
//                                                       or {"id": 1, "ok": false, "code": 5, ...}
//   {"id": 2, "stream": "StreamIsActive", "request": {...}} → {"id": 2, "data": {...}} per message,
//                                                       then {"id": 2, "end": true, "code": 0, ...}
//   {"id": 2, "cancel": true}                            cancels stream 2
//
// usage: node keda_grpc_client.mjs --proto FILE --address HOST:PORT [--ca PEM [--cert PEM --key PEM]]
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { values: args } = parseArgs({
  options: {
    proto: { type: 'string' },
    address: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
  },
});

// keepCase: the field names as KEDA's file spells them; defaults: proto3's false and 0 are shown.
const definition = protoLoader.loadSync(args.proto, {
  keepCase: true, longs: Number, defaults: true, oneofs: true,
});
const { ExternalScaler } = grpc.loadPackageDefinition(definition).externalscaler;

let credentials = grpc.credentials.createInsecure();
if (args.ca) {
  credentials = grpc.credentials.createSsl(
    readFileSync(args.ca),
    args.key ? readFileSync(args.key) : null,
    args.cert ? readFileSync(args.cert) : null);
}
const client = new ExternalScaler(args.address, credentials);

const say = (line) => process.stdout.write(JSON.stringify({ ...line, t: Date.now() }) + '\n');
const failure = (id, err) => ({ id, ok: false, code: err.code, details: err.details });
const streams = new Map();

createInterface({ input: process.stdin }).on('line', (text) => {
  const cmd = JSON.parse(text);
  const deadline = new Date(Date.now() + 10_000);
  if (cmd.call) {
    client[cmd.call](cmd.request, { deadline }, (err, response) => {
      say(err ? failure(cmd.id, err) : { id: cmd.id, ok: true, response });
    });
  } else if (cmd.stream) {
    const call = client[cmd.stream](cmd.request);
    streams.set(cmd.id, call);
    call.on('data', (data) => say({ id: cmd.id, data }));
    call.on('error', (err) => say({ id: cmd.id, end: true, ...failure(cmd.id, err) }));
    call.on('status', (status) => {
      if (status.code === grpc.status.OK) say({ id: cmd.id, end: true, code: 0 });
    });
  } else if (cmd.cancel) {
    streams.get(cmd.id)?.cancel();
  }
}).on('close', () => {
  for (const call of streams.values()) call.cancel();
  client.close();
});
