'use strict';
// One instance of a fleet: an image API (thumbnails, a user list, signed receipts) with an
// in-process client, recording what an instance of a real fleet leaves behind: a heap snapshot at
// the end (Node's own file name, Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot), a CPU profile
// of the run (CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile, as --cpu-prof names it),
// process.memoryUsage() samples (memory.jsonl) and, on stdout when run with --trace-gc, the GC log.
//
// Usage: node --expose-gc --trace-gc fleet_service.js OUT_DIR [--leak] [--version v1|v2]
//            [--ms 2500] [--requests-per-tick 40] [--ballast N] > OUT_DIR/gc.log
// Healthy instances keep ThumbnailJobs in an LRU of at most 40; a leaking one (--leak) also files
// every job in a Map that is never evicted. planted (leaking instance): ThumbnailJob, one per
// thumbnail request (printed to stderr as "planted: ThumbnailJob N"). --version v2 renders receipts
// with a slower escaping routine (escapeHtmlV2), so two deploy versions differ in CPU. --ballast N keeps N
// small catalogue rows alive in every instance (no leak: a bigger heap, for benchmarks).
const fs = require('fs');
const http = require('http');
const path = require('path');
const v8 = require('v8');
const inspector = require('inspector');

const args = process.argv.slice(2);
const outDir = path.resolve(args[0] || '.');
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const leak = args.includes('--leak');
const version = opt('--version', 'v1');
const runMs = Number(opt('--ms', 2500));
const perTick = Number(opt('--requests-per-tick', 40));
const ballastRows = Number(opt('--ballast', 0));
fs.mkdirSync(outDir, { recursive: true });

class ThumbnailJob {
  constructor(id, width) {
    this.id = id;
    this.width = width;
    this.createdAt = Date.now();
    this.pixels = Buffer.alloc(width * width);
    this.history = Array.from({ length: 48 }, (_, i) => ({ step: i, note: `${id}:${i}` }));
  }
}

class LruCache {
  constructor(max) { this.max = max; this.map = new Map(); }
  get(k) { const v = this.map.get(k); if (v) { this.map.delete(k); this.map.set(k, v); } return v; }
  put(k, v) {
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value);
  }
}

const recent = new LruCache(40);
const allJobs = new Map();    // filled only by a leaking instance: never evicted
const catalogue = Array.from({ length: ballastRows }, (_, i) => ({ sku: i, title: `row ${i}`, tags: [i % 7, i % 11] }));
let planted = 0;

function escapeHtmlV1(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function escapeHtmlV2(s) {
  // the v2 deploy escapes character by character, several passes: slower
  let out = s;
  for (let pass = 0; pass < 6; pass++) {
    let t = '';
    for (const c of out) t += c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c;
    out = pass === 0 ? t : out;
  }
  return out;
}

function renderReceipt(n) {
  const esc = version === 'v2' ? escapeHtmlV2 : escapeHtmlV1;
  let html = '<ul>';
  for (let i = 0; i < 30; i++) html += `<li>${esc(`item <${i}> & "${n}"`)}</li>`;
  return html + '</ul>';
}

function thumbnail(id) {
  let job = recent.get(id);
  if (!job) {
    job = new ThumbnailJob(id, 32);
    recent.put(id, job);
    if (leak) { allJobs.set(id, job); planted++; }
  }
  return `thumbnail ${job.id} ${job.pixels.length}`;
}

const routes = {
  '/thumbnail': (q) => thumbnail(q.get('id')),
  '/users': () => JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ id: i, name: `user${i}` }))),
  '/receipt': (q) => renderReceipt(q.get('n')),
};

function handler(req, res) {
  const url = new URL(req.url, 'http://fleet');
  const route = routes[url.pathname];
  const body = route ? route(url.searchParams) : 'not found';
  res.writeHead(route ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(body);
}

function get(port, p) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    r.on('error', reject);
    r.end();
  });
}

function stamp(d) {
  const z = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}${z(d.getMonth() + 1)}${z(d.getDate())}.${z(d.getHours())}${z(d.getMinutes())}${z(d.getSeconds())}`;
}

function post(session, method, params = {}) {
  return new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
}

async function main() {
  const mem = fs.openSync(path.join(outDir, 'memory.jsonl'), 'w');
  const sample = () => fs.writeSync(mem, JSON.stringify({ ts: Date.now(), ...process.memoryUsage() }) + '\n');
  const memTimer = setInterval(sample, 50);
  // a full collection every 100 ms: the post-GC floor the GC log records
  const gcTimer = setInterval(() => global.gc && global.gc(), 100);

  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(session, 'Profiler.start');

  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const t0 = Date.now();
  let next = 0;
  while (Date.now() - t0 < runMs) {
    const batch = [];
    for (let i = 0; i < perTick; i++) {
      const k = next++;
      batch.push(get(port, k % 3 === 0 ? `/receipt?n=${k}` : k % 3 === 1 ? `/thumbnail?id=img-${k}` : '/users'));
    }
    await Promise.all(batch);
  }
  const { profile } = await post(session, 'Profiler.stop');
  const seq = (n) => String(n).padStart(3, '0');
  const now = new Date();
  fs.writeFileSync(path.join(outDir, `CPU.${stamp(now)}.${process.pid}.0.${seq(1)}.cpuprofile`), JSON.stringify(profile));
  session.disconnect();
  clearInterval(memTimer);
  clearInterval(gcTimer);
  sample();
  server.close();
  if (global.gc) global.gc();
  v8.writeHeapSnapshot(path.join(outDir, `Heap.${stamp(now)}.${process.pid}.0.${seq(2)}.heapsnapshot`));
  fs.closeSync(mem);
  process.stderr.write(`planted: ThumbnailJob ${planted} (catalogue ${catalogue.length})\n`);
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
