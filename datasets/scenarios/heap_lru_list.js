'use strict';
// A response cache written as a doubly linked list (most recent first) whose eviction never runs:
// the size counter is never incremented, so `size > capacity` is never true. Each entry is a
// CacheNode {key, value, prev, next}; the only path to an old entry is along the chain from the
// head, thousands of `.next CacheNode` steps. Planted: 1,500 CacheNode objects per phase.
// planted: CacheNode 1500
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class CacheNode {
  constructor(key, value) { this.key = key; this.value = value; this.prev = null; this.next = null; }
}

class RecentResponses {
  constructor(capacity) { this.capacity = capacity; this.head = null; this.tail = null; this.size = 0; }
  get(key) {
    for (let n = this.head; n !== null; n = n.next) if (n.key === key) return n.value;
    return undefined;
  }
  put(key, value) {
    const node = new CacheNode(key, value);
    node.next = this.head;
    if (this.head) this.head.prev = node;
    this.head = node;
    if (!this.tail) this.tail = node;
    // Bug: this.size is never incremented, so the tail is never evicted.
    if (this.size > this.capacity) { this.tail = this.tail.prev; this.tail.next = null; this.size--; }
  }
}

const responses = new RecentResponses(100);

function handler(req, res) {
  const key = req.url;
  let body = responses.get(key);
  if (body === undefined) {
    body = { status: 200, text: 'rendered ' + key + ' '.repeat(48), at: Date.now() };
    responses.put(key, body);
  }
  res.writeHead(200);
  res.end(body.text);
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 50 }, () => `/page/${n++}`),
  phase: () => Array.from({ length: 1500 }, () => `/page/${n++}`),
});
