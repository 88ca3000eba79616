// Story: a CPU-bound report (a prime sieve and a checksum) computed on the main thread blocks every
// other request; it belongs in a worker thread. Usage: node cpu_worker_loop.js [seconds=1.5] [variant=slow|fast]
// "fast" runs the report in a worker_threads Worker, so the main thread's profile shows requests only.
'use strict';
const { Worker, isMainThread, parentPort } = require('worker_threads');

function sieve(n) {
  const composite = new Uint8Array(n + 1);
  let count = 0;
  for (let p = 2; p <= n; p++) {
    if (composite[p]) continue;
    count++;
    for (let q = p * p; q <= n; q += p) composite[q] = 1;
  }
  return count;
}

function checksum(n) {
  let h = 2166136261;
  for (let k = 0; k < n; k++) { h ^= k & 0xff; h = Math.imul(h, 16777619); }
  return h >>> 0;
}

function buildReport(i) {
  return { primes: sieve(200000 + (i % 7) * 1000), sum: checksum(300000) };
}

if (!isMainThread) {
  parentPort.on('message', (i) => parentPort.postMessage(buildReport(i)));
} else {
  const { serve } = require('./_cpu_harness');
  const seconds = Number(process.argv[2] || 1.5);
  const variant = process.argv[3] || 'slow';
  const worker = variant === 'fast' ? new Worker(__filename) : null;
  let pending = 0;
  function handleRequest(i) {
    let s = 0;
    for (let k = 0; k < 2000; k++) s += (k * i) % 7;  // the request's own work
    if (i % 50 === 0) {
      if (worker) { if (pending < 2) { pending++; worker.postMessage(i); } } else buildReport(i);
    }
    return s;
  }
  if (worker) worker.on('message', () => { pending--; });
  serve(handleRequest, seconds);
  setTimeout(() => { if (worker) worker.terminate(); }, seconds * 1000 + 200);
}
