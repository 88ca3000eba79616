'use strict'
// The OTLP/HTTP receiver: every POST /v1/traces body (application/json) is appended to the output
// file as one line, the way the Collector's file exporter writes ExportTraceServiceRequests. Not
// instrumented. Usage: node receiver.js PORT OUT_FILE
const fs = require('fs')
const http = require('http')
const [port, out] = process.argv.slice(2)
const fd = fs.openSync(out, 'w')
let requests = 0
http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/traces') { res.writeHead(404).end(); return }
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    JSON.parse(body) // a request that is not JSON is a bug of this scenario: crash loudly
    fs.writeSync(fd, body.replace(/\n/g, '') + '\n')
    requests++
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
}).listen(Number(port), '127.0.0.1', () => process.send && process.send({ ready: true }))
process.on('SIGTERM', () => { fs.closeSync(fd); process.stderr.write(`receiver: ${requests} requests\n`); process.exit(0) })
