'use strict'
// Runs the incident: the OTLP receiver, users-service and the gateway (each its own process, both
// services instrumented), then an open-loop load generator (arrivals at a fixed rate, so that a slow
// gateway does not get less traffic): HEALTHY_S seconds of /api/users/:id and /api/orders, then
// INCIDENT_S more with the new /internal/thumbnail/:id endpoint in use. Heap snapshots are taken
// before the incident (baseline), in it (target) and at its end (final). Usage: node run_incident.js OUT
const { fork } = require('child_process')
const fs = require('fs')
const http = require('http')
const path = require('path')

const OUT = path.resolve(process.argv[2] || 'out')
const HEALTHY_S = Number(process.env.WB_HEALTHY_S || 40)
const INCIDENT_S = Number(process.env.WB_INCIDENT_S || 60)
const RATES = { users: 14, orders: 6, thumbnail: 8 } // requests per second
const PORTS = { receiver: 43181, upstream: 43182, gateway: 43183 }
fs.mkdirSync(OUT, { recursive: true })

function start (script, env, execArgv, outFile, errFile) {
  const o = fs.openSync(path.join(OUT, outFile), 'w')
  const e = fs.openSync(path.join(OUT, errFile), 'w')
  const child = fork(path.join(__dirname, script), [], {
    cwd: __dirname, env: { ...process.env, ...env }, execArgv, stdio: ['ignore', o, e, 'ipc']
  })
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child))
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before it was ready`)))
  })
}
function startReceiver () {
  const child = fork(path.join(__dirname, 'receiver.js'), [String(PORTS.receiver), path.join(OUT, 'traces.otlp.jsonl')],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve) => child.once('message', () => resolve(child)))
}
const stop = (child) => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM') })
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const stats = { sent: {}, status: {}, client_timeouts: 0, errors: 0 }
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
function get (p, headers = {}) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: PORTS.gateway, path: p, agent, headers }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.setTimeout(10000, () => { stats.client_timeouts++; req.destroy(); resolve('timeout') })
    req.on('error', () => { stats.errors++; resolve('error') })
  })
}
const admin = (p) => get(p)

async function main () {
  const otlp = `http://127.0.0.1:${PORTS.receiver}/v1/traces`
  const receiver = await startReceiver()
  const tel = ['--require', path.join(__dirname, 'telemetry.js')]
  const upstream = await start('upstream.js', { WB_SERVICE: 'users-service', WB_OTLP_URL: otlp, WB_PORT: PORTS.upstream,
    WB_LOG: path.join(OUT, 'users-service.log') }, tel, 'users-service.out', 'users-service.stderr.log')
  const gateway = await start('gateway.js', { WB_SERVICE: 'api-gateway', WB_OTLP_URL: otlp, WB_PORT: PORTS.gateway,
    WB_UPSTREAM_PORT: PORTS.upstream, WB_OUT: OUT },
  [...tel, '--trace-gc', '--cpu-prof', '--cpu-prof-dir', OUT, '--cpu-prof-name', 'gateway.cpuprofile', '--cpu-prof-interval', '2000'],
  'gc.log', 'gateway.stderr.log')
  const t0 = Date.now()
  const pending = []
  let n = 0
  const rng = (() => { let s = 42; return () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff } })()
  const tick = 50
  const schedule = [[HEALTHY_S - 4, () => admin('/admin/snapshot?label=baseline')],
    [HEALTHY_S, () => admin('/admin/phase?name=incident_start')],
    [HEALTHY_S + INCIDENT_S / 2, () => admin('/admin/snapshot?label=target')],
    [HEALTHY_S + INCIDENT_S - 2, () => admin('/admin/snapshot?label=final')]]
  const carry = { users: 0, orders: 0, thumbnail: 0 }
  while (Date.now() - t0 < (HEALTHY_S + INCIDENT_S) * 1000) {
    const el = (Date.now() - t0) / 1000
    while (schedule.length && el >= schedule[0][0]) pending.push(schedule.shift()[1]())
    for (const kind of Object.keys(RATES)) {
      if (kind === 'thumbnail' && el < HEALTHY_S) continue
      carry[kind] += RATES[kind] * tick / 1000
      while (carry[kind] >= 1) {
        carry[kind] -= 1
        n++
        const auth = rng() < 1 / 200 ? {} : { authorization: 'Bearer t0ken' }
        const p = kind === 'users' ? `/api/users/${1 + Math.floor(rng() * 5000)}` : kind === 'orders' ? '/api/orders?page=1'
          : `/internal/thumbnail/${1 + Math.floor(rng() * 100000)}`
        stats.sent[kind] = (stats.sent[kind] || 0) + 1
        pending.push(get(p, auth).then((s) => { stats.status[s] = (stats.status[s] || 0) + 1 }))
      }
    }
    await sleep(tick)
  }
  await Promise.all(pending)
  await sleep(500)
  await stop(gateway)
  await stop(upstream)
  await sleep(1500)
  await stop(receiver)
  stats.requests = n
  stats.healthy_s = HEALTHY_S
  stats.incident_s = INCIDENT_S
  stats.rates_per_s = RATES
  fs.writeFileSync(path.join(OUT, 'load.json'), JSON.stringify(stats, null, 1))
  agent.destroy()
}
main().catch((e) => { console.error(e); process.exit(1) })
