'use strict'
// Run Clinic.js Doctor's own analysis (analysis/index.js, exactly as `visualize` wires it) on a
// Doctor data folder and print the result as JSON, plus Doctor's intermediate figures (guessed
// interval indices, per-signal statistics) so that tests can pin each step.
// usage: node metrics_doctor_analyse.js DOCTOR_DIR RECORDING_DIR
const fs = require('fs')
const path = require('path')
const doctorDir = path.resolve(process.argv[2])
const D = path.join(doctorDir, 'node_modules', '@clinic', 'doctor')
const req = (p) => require(path.join(D, p))
const pumpify = require(path.join(doctorDir, 'node_modules', 'pumpify'))
const endpoint = require(path.join(doctorDir, 'node_modules', 'endpoint'))
const getLoggingPaths = require(path.join(doctorDir, 'node_modules', '@clinic', 'clinic-common')).getLoggingPaths('doctor')
const SystemInfoDecoder = req('format/system-info-decoder.js')
const TraceEventDecoder = req('format/trace-event-decoder.js')
const ProcessStatDecoder = req('format/process-stat-decoder.js')
const Analysis = req('analysis/index.js')
const guessInterval = req('analysis/guess-interval.js')

const paths = getLoggingPaths({ path: path.resolve(process.argv[3]) })
const open = () => {
  const systemInfoReader = pumpify.obj(fs.createReadStream(paths['/systeminfo']), new SystemInfoDecoder())
  const traceEventReader = pumpify.obj(fs.createReadStream(paths['/traceevent']), new TraceEventDecoder(systemInfoReader))
  const processStatReader = pumpify.obj(fs.createReadStream(paths['/processstat']), new ProcessStatDecoder())
  return { systemInfoReader, traceEventReader, processStatReader }
}
const a = open()
new Analysis(a.systemInfoReader, a.traceEventReader, a.processStatReader).pipe(endpoint({ objectMode: true }, (err, res) => {
  if (err) throw err
  const result = res[0]
  const b = open()
  b.processStatReader.pipe(endpoint({ objectMode: true }, (err2, stats) => {
    if (err2) throw err2
    b.traceEventReader.pipe(endpoint({ objectMode: true }, (err3, events) => {
      if (err3) throw err3
      const interval = guessInterval(stats)
      const gc = events.filter((e) => ['V8.GCScavenger', 'V8.GCFinalizeMC', 'V8.GCIncrementalMarkingFinalize'].includes(e.name))
      result.details = {
        process_stat_count: stats.length,
        trace_event_gc_count: events.length,
        blocking_gc_count: gc.length,
        interval_index: interval,
        first_timestamp: stats.length ? stats[0].timestamp : null
      }
      process.stdout.write(JSON.stringify(result, null, 1) + '\n')
    }))
  }))
}))
