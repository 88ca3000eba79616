'use strict'
// The API gateway of the guide's mock incident ("Diagnosing High Latency"): it authenticates requests
// and forwards /api/users/:id and /api/orders to users-service (timeout UPSTREAM_TIMEOUT_MS, then 504).
// A new internal endpoint, /internal/thumbnail/:id, renders a thumbnail (a Buffer) into a
// ThumbnailCache whose entries Map is never evicted (the key carries the render time, so no entry
// is ever hit or replaced) and, for the ETag of the sprite sheet, concatenates every cached
// thumbnail on every request: the leak makes each request slower, the Buffers and their
// RenderedThumbnail objects raise the heap floor and the GC work, and every route waits behind it.
//
// Writes (WB_OUT): gateway.log (pino + pino-http, trace ids by instrumentation-pino), memory.jsonl
// (process.memoryUsage() every 250 ms), eventloop.csv (monitorEventLoopDelay per second, ns),
// gateway.prom (process_start_time_seconds, for aligning the GC log), baseline/target/final
// .heapsnapshot (POST /admin/snapshot?label=...), phases.json. The GC log is stdout (--trace-gc).
const fs = require('fs')
const http = require('http')
const path = require('path')
const v8 = require('v8')
const { EventEmitter } = require('events')
const { monitorEventLoopDelay, performance } = require('perf_hooks')
const { trace } = require('@opentelemetry/api')
const pino = require('pino')
const pinoHttp = require('pino-http')

const OUT = process.env.WB_OUT
const UPSTREAM = Number(process.env.WB_UPSTREAM_PORT)
const UPSTREAM_TIMEOUT_MS = 300
const THUMB_BYTES = 256 * 1024
const EXIF_TAGS = 120

const dest = pino.destination({ dest: path.join(OUT, 'gateway.log'), sync: false, minLength: 8192 })
const log = pino({ base: { pid: process.pid, hostname: 'gateway-1' } }, dest)
const httpLog = pinoHttp({
  logger: log,
  customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info')
})

class RenderedThumbnail {
  constructor (id, width, pixels) {
    this.id = id
    this.width = width
    this.pixels = pixels
    this.renderedAt = Date.now()
    this.exif = []
    for (let i = 0; i < EXIF_TAGS; i++) this.exif.push({ tag: 'Tag' + (i % 40), value: i * 3 + id })
  }
}

class ThumbnailCache extends EventEmitter {
  constructor (max) {
    super()
    this.max = max
    this.entries = new Map()
  }

  put (key, thumb) {
    this.entries.set(key, thumb)
    // eviction "check": the size limit compares bytes with an entry count, so it never fires
    if (this.entries.size * THUMB_BYTES > this.max * THUMB_BYTES * 1e9) this.emit('evict')
  }

  spriteEtag () {
    const sheet = Buffer.concat([...this.entries.values()].map((t) => t.pixels))
    let h = 0
    for (let i = 0; i < sheet.length; i += 4096) h = (h * 31 + sheet[i]) | 0
    return `"${sheet.length.toString(16)}-${(h >>> 0).toString(16)}"`
  }
}
const cache = new ThumbnailCache(500)

function render (id, width) {
  const src = Buffer.allocUnsafe(THUMB_BYTES * 2)
  for (let i = 0; i < src.length; i += 64) src[i] = (i * 7 + id) & 0xff
  const out = Buffer.alloc(THUMB_BYTES)
  for (let i = 0; i < out.length; i += 16) out[i] = src[i * 2]
  return new RenderedThumbnail(id, width, out)
}

function upstream (pathname, cb) {
  let done = false
  const finish = (err, status, body) => { if (!done) { done = true; cb(err, status, body) } }
  const req = http.get({ host: '127.0.0.1', port: UPSTREAM, path: pathname, agent: keepAlive }, (res) => {
    const chunks = []
    res.on('data', (c) => chunks.push(c))
    res.on('end', () => finish(null, res.statusCode, Buffer.concat(chunks)))
  })
  req.on('error', (e) => finish(e))
  req.setTimeout(UPSTREAM_TIMEOUT_MS, () => {
    const e = new Error(`upstream timed out after ${UPSTREAM_TIMEOUT_MS} ms`)
    e.name = 'TimeoutError'
    req.destroy(e)
    finish(e)
  })
}
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 })

function route (url) {
  if (/^\/api\/users\/\d+$/.test(url)) return '/api/users/:id'
  if (url.startsWith('/api/orders')) return '/api/orders'
  if (/^\/internal\/thumbnail\/\d+$/.test(url)) return '/internal/thumbnail/:id'
  return null
}

function authenticate (req) {
  return (req.headers.authorization || '').startsWith('Bearer ')
}

const phases = { start: Date.now(), snapshots: {} }
function snapshot (label) {
  const t0 = Date.now()
  const file = v8.writeHeapSnapshot(path.join(OUT, `${label}.heapsnapshot`))
  phases.snapshots[label] = { start: t0, end: Date.now(), file: path.basename(file), entries: cache.entries.size }
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.end('ok'); return }
  if (req.url.startsWith('/admin/snapshot')) {
    snapshot(new URL(req.url, 'http://x').searchParams.get('label'))
    res.end('ok')
    return
  }
  if (req.url.startsWith('/admin/phase')) {
    phases[new URL(req.url, 'http://x').searchParams.get('name')] = Date.now()
    res.end('ok')
    return
  }
  httpLog(req, res)
  const r = route(req.url)
  const span = trace.getActiveSpan()
  if (r && span) { span.setAttribute('http.route', r); span.updateName(`${req.method} ${r}`) }
  if (!r) { res.writeHead(404).end(); return }
  if (!authenticate(req)) { res.writeHead(401).end(); return }
  if (r === '/internal/thumbnail/:id') {
    const id = Number(req.url.split('/').pop())
    const thumb = render(id, 128)
    cache.put(`${id}:128:${thumb.renderedAt}`, thumb)
    cache.on('evict', () => thumb.pixels.fill(0))
    const etag = cache.spriteEtag()
    res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify({ id, cached: cache.entries.size }))
    return
  }
  const target = r === '/api/orders' ? '/orders' : '/users/' + req.url.split('/').pop()
  upstream(target, (err, status, body) => {
    if (err) {
      req.log.error({ err }, 'upstream request failed')
      res.writeHead(err.name === 'TimeoutError' ? 504 : 502).end()
      return
    }
    if (status >= 500) {
      const e = new Error(`users-service answered ${status}`)
      e.name = 'UpstreamError'
      req.log.error({ err: e }, 'upstream request failed')
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
})

// in-process samples: memoryUsage every 250 ms, event-loop delay histogram per second
const mem = fs.openSync(path.join(OUT, 'memory.jsonl'), 'w')
const memTimer = setInterval(() => fs.writeSync(mem, JSON.stringify({ ts: Date.now(), ...process.memoryUsage() }) + '\n'), 250)
const h = monitorEventLoopDelay({ resolution: 10 })
h.enable()
const eld = fs.openSync(path.join(OUT, 'eventloop.csv'), 'w')
fs.writeSync(eld, 'ts,min,max,mean,stddev,p50,p90,p99,count\n')
const eldTimer = setInterval(() => {
  fs.writeSync(eld, [Date.now(), h.min, h.max, h.mean.toFixed(1), h.stddev.toFixed(1), h.percentile(50), h.percentile(90), h.percentile(99), h.count].join(',') + '\n')
  h.reset()
}, 1000)

server.listen(Number(process.env.WB_PORT), '127.0.0.1', () => process.send && process.send({ ready: true }))

process.on('SIGTERM', () => {
  clearInterval(memTimer)
  clearInterval(eldTimer)
  phases.end = Date.now()
  phases.cache_entries = cache.entries.size
  fs.writeFileSync(path.join(OUT, 'phases.json'), JSON.stringify(phases, null, 1))
  fs.writeFileSync(path.join(OUT, 'gateway.prom'),
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n' +
    '# TYPE process_start_time_seconds gauge\n' +
    `process_start_time_seconds ${(performance.timeOrigin / 1000).toFixed(3)}\n`)
  dest.flushSync()
  server.close()
  require('./telemetry.js').provider.shutdown().finally(() => process.exit(0))
})
