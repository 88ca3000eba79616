'use strict'
// Harness shared by the metrics_* scenarios: an HTTP service plus an in-process load generator,
// recording what real services export (prom-client scrapes, process.memoryUsage() samples,
// event-loop delay/utilisation samples, a diagnostic report). The --trace-gc log is the process's
// stdout and the Clinic.js Doctor recording comes from running this under Doctor's collect.
//
// Phases: IDLE_MS idle, LOAD_MS under load (CONCURRENCY requests in flight), IDLE_MS idle, then the
// server closes and the process ends on its own (Doctor's sampler flushes on 'beforeExit').
const fs = require('fs')
const http = require('http')
const path = require('path')
const { monitorEventLoopDelay, performance } = require('perf_hooks')

const promClient = require(process.env.WB_PROM_CLIENT ||
  path.join(__dirname, '..', '..', '.peers', 'doctor', 'node_modules', 'prom-client'))

function run ({ name, handler, loadMs = 20000, idleMs = 1500, concurrency = 8, onTick = null }) {
  if (process.env.WB_LOAD_MS) loadMs = Number(process.env.WB_LOAD_MS)
  const out = process.env.WB_OUT || path.join(process.cwd(), name)
  fs.mkdirSync(path.join(out, 'scrapes'), { recursive: true })

  const register = new promClient.Registry()
  promClient.collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 10 })
  const latency = new promClient.Histogram({
    name: 'http_request_duration_seconds',
    help: 'request latency seen by the server',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [register]
  })
  const requests = new promClient.Counter({
    name: 'http_requests_total', help: 'requests served', labelNames: ['route'], registers: [register]
  })

  // process.memoryUsage() every 100 ms, one JSON object per line (ts in unix ms)
  const memOut = fs.openSync(path.join(out, 'memory.jsonl'), 'w')
  const memTimer = setInterval(() => {
    const m = process.memoryUsage()
    fs.writeSync(memOut, JSON.stringify({ ts: Date.now(), ...m }) + '\n')
  }, 100)

  // monitorEventLoopDelay (ns) and eventLoopUtilization deltas every second, as CSV
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  let lastElu = performance.eventLoopUtilization()
  const loopOut = fs.openSync(path.join(out, 'eventloop.csv'), 'w')
  fs.writeSync(loopOut, 'ts,utilization,active,idle,min,max,mean,stddev,p50,p90,p99,count\n')
  const loopTimer = setInterval(() => {
    const elu = performance.eventLoopUtilization(lastElu)
    lastElu = performance.eventLoopUtilization()
    const row = [Date.now(), elu.utilization.toFixed(6), elu.active.toFixed(3), elu.idle.toFixed(3),
      h.min, h.max, h.mean.toFixed(1), h.stddev.toFixed(1), h.percentile(50), h.percentile(90),
      h.percentile(99), h.count]
    fs.writeSync(loopOut, row.join(',') + '\n')
    h.reset()
  }, 1000)

  // a Prometheus scrape every second, one file per scrape named by its unix ms time
  let scraping = Promise.resolve()
  const scrapeTimer = setInterval(() => {
    scraping = scraping.then(async () => {
      const ts = Date.now()
      fs.writeFileSync(path.join(out, 'scrapes', `${ts}.prom`), await register.metrics())
    })
  }, 1000)

  const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint()
    handler(req, (body) => {
      res.end(body)
      latency.observe({ route: '/work' }, Number(process.hrtime.bigint() - t0) / 1e9)
      requests.inc({ route: '/work' })
    })
  })

  server.listen(0, '127.0.0.1', () => {
    const port = server.address().port
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
    let stop = false
    let inFlight = 0
    let tick = null
    function fire () {
      if (stop) return
      inFlight++
      http.get({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
        res.resume()
        res.on('end', () => { inFlight--; fire() })
      }).on('error', () => { inFlight--; fire() })
    }
    setTimeout(() => {
      const t0 = Date.now()
      if (onTick) tick = setInterval(() => onTick(Date.now() - t0), 50)
      for (let i = 0; i < concurrency; i++) fire()
      setTimeout(() => {
        stop = true
        if (tick) clearInterval(tick)
        const wait = setInterval(() => {
          if (inFlight > 0) return
          clearInterval(wait)
          agent.destroy()
          setTimeout(finish, idleMs)
        }, 5)
      }, loadMs)
    }, idleMs)
  })

  function finish () {
    clearInterval(memTimer)
    clearInterval(loopTimer)
    clearInterval(scrapeTimer)
    h.disable()
    scraping.then(async () => {
      register.setContentType(promClient.Registry.OPENMETRICS_CONTENT_TYPE)
      fs.writeFileSync(path.join(out, 'final.openmetrics.txt'), await register.metrics())
      process.report.writeReport(path.join(out, 'report.json'))
      fs.closeSync(memOut)
      fs.closeSync(loopOut)
      server.close()
    })
  }
}

module.exports = { run }
