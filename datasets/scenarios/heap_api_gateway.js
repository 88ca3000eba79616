'use strict';
// An API gateway whose thumbnail endpoint renders into Buffers and keeps every job in a cache
// that is never evicted. The leak: ThumbnailJob objects (with their Buffers) held by
// cache.table, a Map, reachable from the module's context variable `cache`.
// planted: ThumbnailJob 1800
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class ThumbnailJob {
  constructor(id, width, height) {
    this.id = id;
    this.width = width;
    this.height = height;
    this.createdAt = Date.now();
    this.pixels = Buffer.alloc(width * height); // the rendered thumbnail
  }
}

class ThumbnailCache {
  constructor() { this.table = new Map(); this.hits = 0; }
  get(key) { const j = this.table.get(key); if (j) this.hits++; return j; }
  put(key, job) { this.table.set(key, job); } // never evicted: the planted leak
}

const cache = new ThumbnailCache();
const routes = {
  '/health': () => 'ok',
  '/users': () => JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ id: i, name: `user${i}` }))),
  '/thumbnail': (q) => {
    const key = `img-${q.get('id')}-${q.get('w')}`;
    let job = cache.get(key);
    if (!job) {
      job = new ThumbnailJob(q.get('id'), Number(q.get('w')), Number(q.get('w')));
      cache.put(key, job);
    }
    return `thumbnail ${job.id} ${job.pixels.length} bytes`;
  },
};

function handler(req, res) {
  const url = new URL(req.url, 'http://gateway');
  const route = routes[url.pathname];
  const body = route ? route(url.searchParams) : 'not found';
  res.writeHead(route ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(body);
}

let next = 0;
const batch = (n) => Array.from({ length: n }, (_, i) =>
  i % 4 === 0 ? '/users' : `/thumbnail?id=${next++}&w=64`);
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 200 }, (_, i) => (i % 2 ? '/health' : '/users')),
  phase: () => batch(2400),
});
