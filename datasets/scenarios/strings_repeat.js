'use strict';
// 1,000 copies of 'x'.repeat(100) held by the program (issue 11, point 5). V8 builds each copy
// as a cons string tree (repeat doubles: 'xxxx' + 'xxxx' ...), so the snapshot holds 1,000 cons
// strings whose pieces are shared; DevTools shows each by its flattened 100-character value.
// usage: node --expose-gc datasets/scenarios/strings_repeat.js OUTFILE
const v8 = require('v8');

const held = [];
for (let i = 0; i < 1000; i++) held.push('x'.repeat(100));
globalThis.__held = held;

if (global.gc) { global.gc(); global.gc(); }
v8.writeHeapSnapshot(process.argv[2]);
