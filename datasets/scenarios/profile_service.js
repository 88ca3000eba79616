// A request-handling loop with known hot spots, for CPU and allocation profiles.
// Usage: node [--cpu-prof|--heap-prof ...] profile_service.js [seconds=2] [variant=slow|fast]
// "slow" validates with a backtracking regex and re-sorts on every request; "fast" fixes both,
// so the two runs make a before/after pair for differential flame graphs.
'use strict';
const crypto = require('crypto');

const seconds = Number(process.argv[2] || 2);
const variant = process.argv[3] || 'slow';

function makePayload(i) {
  const items = [];
  for (let k = 0; k < 40; k++) items.push({ id: i * 100 + k, name: 'item-' + k, price: (k * 7919) % 1000 / 10 });
  return JSON.stringify({ user: 'user' + (i % 97) + '@example.com', items, note: 'x'.repeat(i % 50) });
}

const EMAIL_SLOW = /^([a-zA-Z0-9]+)*@([a-zA-Z0-9]+\.)+[a-zA-Z]{2,}$/;
const EMAIL_FAST = /^[a-zA-Z0-9]+@(?:[a-zA-Z0-9]+\.)+[a-zA-Z]{2,}$/;

function validate(order) {
  const re = variant === 'slow' ? EMAIL_SLOW : EMAIL_FAST;
  if (!re.test(order.user)) throw new Error('bad user');
  return order.items.every((it) => typeof it.price === 'number');
}

function priceOrder(order) {
  let total = 0;
  const sorted = variant === 'slow' ? [...order.items].sort((a, b) => a.price - b.price) : order.items;
  for (const it of sorted) total += it.price;
  return total;
}

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

function renderReceipt(order, total) {
  let html = '<ul>';
  for (const it of order.items) html += `<li>${it.name}: ${it.price.toFixed(2)}</li>`;
  return html + `</ul><b>${total.toFixed(2)}</b>`;
}

function signReceipt(html) {
  return crypto.createHash('sha256').update(html).digest('hex');
}

const cache = new Map();
function handleRequest(i) {
  const order = JSON.parse(makePayload(i));
  validate(order);
  const total = priceOrder(order);
  const html = renderReceipt(order, total);
  const sig = signReceipt(html);
  if (i % 50 === 0) fib(18);
  cache.set(i % 5000, html);  // bounded cache: allocation churn, no leak
  return sig;
}

const t0 = Date.now();
let n = 0;
let last = '';
function batch() {
  for (let k = 0; k < 200; k++) last = handleRequest(n++);
  if (Date.now() - t0 < seconds * 1000) setImmediate(batch);
  else console.log(JSON.stringify({ requests: n, variant, last: last.slice(0, 8) }));
}
batch();
