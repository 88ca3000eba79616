'use strict'
// OpenTelemetry for one service of the incident (loaded first: node --require ./telemetry.js).
// The JSON exporter is constructed explicitly (sdk-node would pick http/protobuf); it posts
// ExportTraceServiceRequests to the local receiver (WB_OTLP_URL). instrumentation-http makes the
// server and client spans; instrumentation-pino puts trace_id/span_id into every record written
// inside a span. Service name: WB_SERVICE.
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { registerInstrumentations } = require('@opentelemetry/instrumentation')
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http')
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino')

const exporter = new OTLPTraceExporter({ url: process.env.WB_OTLP_URL })
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': process.env.WB_SERVICE || 'service' }),
  // one export a second, a queue big enough that no span is dropped at this load
  spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000, maxQueueSize: 16384, maxExportBatchSize: 512 })]
})
provider.register()
registerInstrumentations({
  instrumentations: [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url.startsWith('/admin/') }),
    new PinoInstrumentation()
  ]
})
process.on('SIGTERM', () => { provider.shutdown().finally(() => process.exit(0)) })
module.exports = { provider }
