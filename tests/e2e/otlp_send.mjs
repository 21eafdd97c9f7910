// Sends synthetic two-service traces to an OTLP/HTTP endpoint with the real OpenTelemetry JS SDK
// and exporters, so the exporter is tested against what instrumented services actually send.
//
//   node otlp_send.mjs --url http://127.0.0.1:4318/v1/traces --protocol json|proto --traces 5
//                      [--probability P]
//
// Each trace: frontend SERVER "GET /hotels" [0,100 ms] → frontend CLIENT "search" [10,60 ms]
// → search SERVER "Nearby" [15,55 ms]. Exits 0 only when the export reported success.
//
// With --probability the SDK head-samples with its consistent probability sampler
// (@opentelemetry/sampler-composite, OTEP 235): the root at P, the child spans following it
// (parent threshold), each sampled span carrying tracestate ot=th:<threshold> as an instrumented
// service sends it. The last line printed is then JSON: {"traces": N, "sampled_traces": k,
// "spans": s, "trace_states": [the distinct tracestate values sent]}.
import { context, trace, SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  createCompositeSampler,
  createComposableParentThresholdSampler,
  createComposableProbabilitySampler,
} from '@opentelemetry/sampler-composite';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const url = arg('url');
const protocol = arg('protocol', 'json');
const traces = Number(arg('traces', '1'));
const probability = arg('probability') === undefined ? undefined : Number(arg('probability'));
if (!url || !['json', 'proto'].includes(protocol) || !(traces > 0) ||
    !(probability === undefined || (probability > 0 && probability <= 1))) {
  console.error('usage: otlp_send.mjs --url URL --protocol json|proto --traces N [--probability P]');
  process.exit(2);
}
const sampler = probability === undefined ? undefined : createCompositeSampler(
    createComposableParentThresholdSampler(createComposableProbabilitySampler(probability)));

const memory = new InMemorySpanExporter();
function provider(service, pod) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'k8s.pod.name': pod,
      'k8s.namespace.name': 'hotel',
    }),
    ...(sampler ? { sampler } : {}),  // else the SDK's default: everything
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
}
const frontend = provider('frontend', 'frontend-0').getTracer('e2e');
const search = provider('search', 'search-0').getTracer('e2e');

const base = Date.now() - 60_000;
const at = (ms) => new Date(base + ms);
let sampled = 0;
for (let i = 0; i < traces; i++) {
  const offset = i * 1000;
  const root = frontend.startSpan('GET /hotels', { kind: SpanKind.SERVER, startTime: at(offset) });
  if (root.isRecording()) sampled++;
  const rootCtx = trace.setSpan(context.active(), root);
  const call = frontend.startSpan('search', { kind: SpanKind.CLIENT, startTime: at(offset + 10) }, rootCtx);
  const served = search.startSpan(
    'Nearby', { kind: SpanKind.SERVER, startTime: at(offset + 15) }, trace.setSpan(rootCtx, call));
  served.end(at(offset + 55));
  call.end(at(offset + 60));
  root.end(at(offset + 100));
}

const exporter = protocol === 'json' ? new JsonExporter({ url }) : new ProtoExporter({ url });
const spans = memory.getFinishedSpans();
exporter.export(spans, (result) => {
  if (result.code !== 0) {
    console.error(`export failed: ${result.error}`);
    process.exit(1);
  }
  console.log(`exported ${spans.length} spans in ${traces} traces as ${protocol}`);
  if (sampler) {
    const states = [...new Set(spans.map((s) => s.spanContext().traceState?.serialize() ?? ''))];
    console.log(JSON.stringify(
        { traces, sampled_traces: sampled, spans: spans.length, trace_states: states }));
  }
  exporter.shutdown().then(() => process.exit(0));
});
