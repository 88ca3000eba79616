'use strict';
// Builds a large, realistic heap (an order-processing service holding ~1.2M orders with
// items, customers and a session Map) and writes it with v8.writeHeapSnapshot.
// usage: node --max-old-space-size=8192 gen_large_heap.js OUT.heapsnapshot [ORDERS]
const v8 = require('v8');
const out = process.argv[2];
const n = Number(process.argv[3] || 1200000);

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
const customers = Array.from({ length: 50000 }, (_, i) => new Customer(i));
const orders = new Map();
for (let i = 0; i < n; i++) orders.set(i, new Order(i, customers[i % customers.length]));
const byDay = {};
for (let i = 0; i < n; i += 1000) byDay[`day-${i / 1000}`] = { count: 1000, first: orders.get(i) };
global.__keep = { customers, orders, byDay };
v8.writeHeapSnapshot(out);
