'use strict';
// A heap whose snapshot is larger than 4 GB, within what a 24 GB machine can write: the order
// service of gen_large_heap.js (ORDERS orders) plus STRINGS distinct 1 KiB strings (V8 writes
// at most 1024 characters of a string's contents into a snapshot, so each adds ~1 KiB to the
// file for ~1 KiB of heap).
// usage: node --max-old-space-size=16000 gen_huge_heap.js OUT.heapsnapshot [ORDERS] [STRINGS]
const v8 = require('v8');
const out = process.argv[2];
const nOrders = Number(process.argv[3] || 2000000);
const nStrings = Number(process.argv[4] || 3300000);

class Item { constructor(sku, qty) { this.sku = sku; this.qty = qty; } }
class Order {
  constructor(id) { this.id = id; this.items = [new Item(`sku-${id % 5000}`, id % 7)]; }
}
const orders = new Array(nOrders);
for (let i = 0; i < nOrders; i++) orders[i] = new Order(i);
const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(30).slice(0, 1000);
const blobs = new Array(nStrings);
for (let i = 0; i < nStrings; i++) blobs[i] = (`blob-${i}-` + pad).slice(0, 1024).split('').join('');
global.__keep = { orders, blobs };
v8.writeHeapSnapshot(out);
