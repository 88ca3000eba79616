'use strict'
// users-service, the gateway's downstream: /users/:id and /orders answer after 4-20 ms; one request
// in 400 fails with 500 (the baseline error rate). Instrumented (telemetry.js), pino to WB_LOG.
const http = require('http')
const { trace } = require('@opentelemetry/api')
const pino = require('pino')
const dest = pino.destination({ dest: process.env.WB_LOG, sync: false, minLength: 4096 })
const log = pino({ base: { pid: process.pid, hostname: 'users-1' } }, dest)
let seed = 7
const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
http.createServer((req, res) => {
  const route = req.url.startsWith('/users/') ? '/users/:id' : req.url.startsWith('/orders') ? '/orders' : null
  const span = trace.getActiveSpan()
  if (route && span) { span.setAttribute('http.route', route); span.updateName(`${req.method} ${route}`) }
  if (!route) { res.writeHead(404).end(); return }
  setTimeout(() => {
    if (rand() < 1 / 400) {
      log.error({ err: { type: 'DatabaseError', message: 'deadlock detected on relation users', stack: 'DatabaseError: deadlock detected\n    at Query.run (db.js:88:11)' } }, 'query failed')
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal"}')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.url.split('/').pop(), name: 'user', orders: [1, 2, 3] }))
  }, 4 + rand() * 16)
}).listen(Number(process.env.WB_PORT), '127.0.0.1', () => process.send && process.send({ ready: true }))
process.on('SIGTERM', () => { dest.flushSync(); require('./telemetry.js').provider.shutdown().finally(() => process.exit(0)) })
