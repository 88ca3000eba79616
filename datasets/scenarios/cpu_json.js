// Story: an API handler serialises and re-parses a big order history on every request (heavy JSON).
// Usage: node cpu_json.js [seconds=1.5] [variant=slow|fast]; "fast" caches the serialised document.
'use strict';
const { serve } = require('./_cpu_harness');

const seconds = Number(process.argv[2] || 1.5);
const variant = process.argv[3] || 'slow';

function buildHistory(n) {
  const orders = [];
  for (let k = 0; k < n; k++) {
    orders.push({ id: k, customer: { name: 'customer ' + (k % 300), email: `c${k % 300}@example.com` },
      lines: [{ sku: 'sku-' + (k % 97), qty: k % 5 + 1, price: (k * 31) % 1000 / 10 }], status: 'shipped' });
  }
  return orders;
}

const history = buildHistory(2000);
let cached = null;

function serialiseHistory() {
  if (variant === 'slow' || cached === null) cached = JSON.stringify(history);
  return cached;
}

function cloneForResponse(text) {
  return JSON.parse(text);
}

function handleHistory(i) {
  const body = serialiseHistory();
  const copy = cloneForResponse(body);
  return copy.length + i;
}

serve(handleHistory, seconds);
