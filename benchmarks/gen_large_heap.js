'use strict';
// Builds a large heap shaped like a busy Node service's and writes it with v8.writeHeapSnapshot:
// class instances (orders with items and customers), parsed JSON payloads (plain objects, the
// kind DevTools names by their properties), closures capturing request contexts, strings,
// arrays, a Map cache and a Set index.
// usage: node --max-old-space-size=16384 gen_large_heap.js OUT.heapsnapshot [SCALE]
// SCALE 1 gives about 3.6 million nodes and a 0.3 GB snapshot; SCALE 2 about 7.2 million and 0.6 GB.
const v8 = require('v8');
const out = process.argv[2];
const scale = Number(process.argv[3] || 1);
const N = Math.round(200000 * scale);

class Customer { constructor(id) { this.id = id; this.email = `customer${id}@example.com`; this.tier = id % 3; } }
class Item { constructor(sku, qty) { this.sku = sku; this.qty = qty; this.price = qty * 1.5; } }
class Order {
  constructor(id, customer) {
    this.id = id;
    this.customer = customer;
    this.items = [new Item(`sku-${id % 5000}`, id % 7), new Item(`sku-${(id * 7) % 5000}`, 1)];
    this.note = id % 10 === 0 ? `priority order ${id}` : null;
  }
}
const customers = Array.from({ length: Math.max(1000, N / 20) }, (_, i) => new Customer(i));
const orders = new Map();
for (let i = 0; i < N; i++) orders.set(i, new Order(i, customers[i % customers.length]));

// API payloads kept in a response cache: plain objects from JSON.parse
const payloads = [];
for (let i = 0; i < N; i++) {
  payloads.push(JSON.parse(JSON.stringify({
    id: i, user: { name: `user${i % 9000}`, locale: i % 2 ? 'en-GB' : 'fr-FR' },
    tags: ['a', 'b', `t${i % 50}`], meta: { created: 1700000000 + i, source: i % 3 ? 'web' : 'app' },
  })));
}
// per-request handlers: closures over a context object
const handlers = [];
for (let i = 0; i < N / 2; i++) {
  const ctx = { requestId: `req-${i}`, startedAt: i, headers: { accept: 'json', 'x-trace': `t-${i}` } };
  handlers.push(function onDone(result) { return ctx.requestId + result; });
}
const index = new Set();
for (let i = 0; i < N; i += 3) index.add(`key-${i}`);
global.__keep = { customers, orders, payloads, handlers, index };
v8.writeHeapSnapshot(out);
