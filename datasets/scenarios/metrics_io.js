'use strict'
// Slow I/O: each request waits 40 ms on a downstream call (a timer standing in for a slow
// database); the process is mostly idle while requests queue up.
const { run } = require('./metrics_common.js')
run({
  name: 'io',
  concurrency: 8,
  handler (req, done) {
    setTimeout(() => done('{"rows":[]}'), 40)
  }
})
