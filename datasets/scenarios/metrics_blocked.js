'use strict'
// Blocked event loop: every request does 25 ms of synchronous work (a busy loop standing in for
// a synchronous crypto/JSON/regex call), so the loop cannot serve anything else meanwhile.
const { run } = require('./metrics_common.js')
run({
  name: 'blocked',
  handler (req, done) {
    const end = Date.now() + 25
    let x = 0
    while (Date.now() < end) x += Math.sqrt(x + 1)
    done(String(x))
  }
})
