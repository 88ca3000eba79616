'use strict'
// GC pressure: a large cache of small objects (old space) is churned by every request, so the
// collector keeps promoting and compacting a big live set.
const { run } = require('./metrics_common.js')
const CACHE = 1500000
const cache = new Array(CACHE)
for (let i = 0; i < CACHE; i++) cache[i] = { k: i, v: 'v' + i, t: [i, i + 1] }
let cursor = 0
run({
  name: 'gc',
  handler (req, done) {
    for (let j = 0; j < 20000; j++) {
      cursor = (cursor + 7919) % CACHE
      cache[cursor] = { k: cursor, v: 'v' + cursor + j, t: [j, cursor] }
    }
    done('ok')
  }
})
