'use strict'
// Healthy service: each request builds and serialises a small JSON document (~0.2 ms of work).
const { run } = require('./metrics_common.js')
run({
  name: 'healthy',
  handler (req, done) {
    const items = []
    for (let i = 0; i < 200; i++) items.push({ id: i, name: 'item' + i, price: i * 1.5 })
    done(JSON.stringify({ items }))
  }
})
