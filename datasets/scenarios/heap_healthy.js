'use strict';
// A healthy service: per-request objects become garbage, and its cache is a bounded LRU that
// evicts old entries. Three snapshots should show no leak.
// planted: none 0
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class LruCache {
  constructor(limit) { this.limit = limit; this.map = new Map(); }
  get(k) { const v = this.map.get(k); if (v !== undefined) { this.map.delete(k); this.map.set(k, v); } return v; }
  set(k, v) {
    this.map.delete(k);
    this.map.set(k, v);
    while (this.map.size > this.limit) this.map.delete(this.map.keys().next().value);
  }
}

class Product { constructor(id) { this.id = id; this.name = `product ${id}`; this.price = id * 3; } }
const cache = new LruCache(100);

function handler(req, res) {
  const id = Number(req.url.split('/').pop()) % 500;
  let p = cache.get(id);
  if (!p) { p = new Product(id); cache.set(id, p); }
  const body = JSON.stringify({ product: p, related: Array.from({ length: 10 }, (_, i) => ({ id: i })) });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 1000 }, () => `/products/${n++}`),
  phase: () => Array.from({ length: 2000 }, () => `/products/${n++}`),
});
