'use strict'
// Slow leak: the healthy service plus a planted leak that retains LEAK_BYTES_PER_S bytes of V8
// heap per second of load (arrays of doubles kept in a module-level list, the classic
// "cache without eviction"). The leak is paced by wall-clock time, so its rate is exact.
const { run } = require('./metrics_common.js')
const LEAK_BYTES_PER_S = 500 * 1024
const CHUNK_DOUBLES = 1250 // one FixedDoubleArray of 1250 * 8 B = 10000 B (+16 B header, +32 B JSArray)
const CHUNK_BYTES = CHUNK_DOUBLES * 8 + 16 + 32
const leaked = []
run({
  name: 'leak',
  loadMs: 30000,
  handler (req, done) {
    const items = []
    for (let i = 0; i < 200; i++) items.push({ id: i, name: 'item' + i, price: i * 1.5 })
    done(JSON.stringify({ items }))
  },
  onTick (elapsedMs) {
    const want = Math.floor(LEAK_BYTES_PER_S * elapsedMs / 1000 / CHUNK_BYTES)
    while (leaked.length < want) leaked.push(new Array(CHUNK_DOUBLES).fill(leaked.length + 0.5))
  }
})
module.exports = { LEAK_BYTES_PER_S, CHUNK_BYTES }
