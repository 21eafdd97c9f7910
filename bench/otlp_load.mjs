// Span load from the real OpenTelemetry JS SDK: BatchSpanProcessor and the OTLP/HTTP exporter, as
// an instrumented service ships its spans, for bench/span_ingest.py.
//
//   node bench/otlp_load.mjs --url http://127.0.0.1:4318/v1/traces --protocol proto|json --seconds 20
//
// Ten services s0..s9, four operations each; a trace is s(i) SERVER → s(i) CLIENT →
// s(i+1) SERVER. Spans are made as fast as the SDK takes them; the SDK drops what its queue cannot
// hold, so the exporter's own counter says how many arrived. Prints the spans made.
//
// The OpenTelemetry packages are tests/e2e's (its package.json and lock pin them).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'e2e', 'package.json'));
const { context, trace, SpanKind } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter: JsonExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPTraceExporter: ProtoExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const url = arg('url');
const protocol = arg('protocol', 'proto');
const seconds = Number(arg('seconds', '20'));
if (!url || !['json', 'proto'].includes(protocol) || !(seconds > 0)) {
  console.error('usage: otlp_load.mjs --url URL --protocol proto|json --seconds S');
  process.exit(2);
}

const SERVICES = 10;
const providers = [];
const tracers = [];
for (let s = 0; s < SERVICES; s++) {
  const exporter = protocol === 'json' ? new JsonExporter({ url }) : new ProtoExporter({ url });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': `s${s}`,
      'k8s.pod.name': `s${s}-0`,
      'k8s.namespace.name': 'bench',
    }),
    // The SDK's default batch of 512 spans; a queue deep enough for a burst of traces.
    spanProcessors: [new BatchSpanProcessor(exporter, {
      maxExportBatchSize: 512, maxQueueSize: 16384, scheduledDelayMillis: 100,
    })],
  });
  providers.push(provider);
  tracers.push(provider.getTracer('bench'));
}

let made = 0;
const deadline = Date.now() + seconds * 1000;
while (Date.now() < deadline) {
  // A burst of traces, then a turn of the event loop for the exporters' requests.
  for (let i = 0; i < 200; i++) {
    const s = (made / 3 + i) % SERVICES | 0;
    const callee = (s + 1) % SERVICES;
    const op = i % 4;
    const root = tracers[s].startSpan(`GET /api/${op}`, {
      kind: SpanKind.SERVER, attributes: { 'http.method': 'GET', 'http.route': `/api/${op}` },
    });
    const rootCtx = trace.setSpan(context.active(), root);
    const call = tracers[s].startSpan(`call s${callee}`, { kind: SpanKind.CLIENT }, rootCtx);
    const served = tracers[callee].startSpan(
      `Serve${op}`, { kind: SpanKind.SERVER }, trace.setSpan(rootCtx, call));
    served.end();
    call.end();
    root.end();
    made += 3;
  }
  await new Promise((resolve) => setImmediate(resolve));
}
await Promise.all(providers.map((p) => p.forceFlush()));
await Promise.all(providers.map((p) => p.shutdown()));
console.log(`made ${made} spans in ${seconds} s as ${protocol}`);
