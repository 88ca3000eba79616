'use strict';
// A CPU-bound program whose profile has a large call tree, not just many samples: N generated
// functions calling each other at random to a fixed depth. Used by the profile benchmarks.
// usage: node --cpu-prof deep_calls.js SECONDS [N=3000] [DEPTH=9]
const seconds = Number(process.argv[2] || 8);
const N = Number(process.argv[3] || 3000);
const depth = Number(process.argv[4] || 9);
const fns = [];
for (let i = 0; i < N; i++) {
  fns.push(new Function('fns', 'depth', 'x',
    `"use strict"; // f${i}
     let s = x;
     for (let k = 0; k < ${20 + (i % 50)}; k++) s = (s * 31 + k) % 1000003;
     if (depth > 0) { s += fns[(s + ${i}) % fns.length](fns, depth - 1, s); s += fns[(s * 7 + ${i}) % fns.length](fns, depth - 1, s); }
     return s;`).bind(null, fns));
}
const t0 = Date.now();
let acc = 0, i = 0;
while (Date.now() - t0 < seconds * 1000) acc += fns[i++ % N](depth, i);
console.log(acc > 0);
