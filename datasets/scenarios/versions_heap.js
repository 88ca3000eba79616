'use strict';
// One small heap, the same under every Node version (issue 11, point 6): a class with many
// instances, a Map, closures, a WeakMap, a Buffer, a cons string and a sliced string, then one
// snapshot written with v8.writeHeapSnapshot (Node >= 11.13; older Node through the inspector's
// HeapProfiler.takeHeapSnapshot, as DevTools takes it). A change in V8's snapshot format between
// versions shows up against the DevTools goldens made from these files.
// Named versions_heap.js (not heap_*.js) so datasets/build_heap.py does not rebuild it with the
// machine's node: datasets/build_heap_versions.py runs it under each version.
// usage: node --expose-gc datasets/scenarios/versions_heap.js OUTFILE
const v8 = require('v8');

class Session {
  constructor(id) {
    this.id = id;
    this.user = `user-${id}`;
    this.tags = ['a', 'b', String(id % 7)];
  }
}

const sessions = new Map();
for (let i = 0; i < 500; i++) sessions.set(i, new Session(i));
const handlers = Array.from({ length: 50 }, (_, i) => () => i + sessions.size);
const weak = new WeakMap();
const keys = Array.from({ length: 20 }, (_, i) => ({ k: i }));
for (const k of keys) weak.set(k, { payload: new Array(8).fill(k.k) });
const buf = Buffer.alloc(4096, 1);
const joined = 'left-part-of-a-cons-string-'.repeat(2) + String(Date.now() % 1);
const sliced = 'a fairly long parent string so that V8 slices it rather than copying'.slice(5, 40);
global.__keep = { sessions, handlers, weak, keys, buf, joined, sliced };

if (global.gc) { global.gc(); global.gc(); }
if (v8.writeHeapSnapshot) {
  v8.writeHeapSnapshot(process.argv[2]);
} else {
  const inspector = require('inspector');
  const session = new inspector.Session();
  const chunks = [];
  session.connect();
  session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
  session.post('HeapProfiler.takeHeapSnapshot', null, (err) => {
    if (err) throw err;
    require('fs').writeFileSync(process.argv[2], chunks.join(''));
    session.disconnect();
  });
}
