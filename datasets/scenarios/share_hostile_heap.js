'use strict';
// A service whose own data carries markup: it caches user-supplied JSON under user-chosen keys, so
// class names, property names, the leak's holder and strings in its heap are HTML/JavaScript
// payloads. Reports and widgets built from these snapshots must show them as text and run none of
// them (each payload would set window.__wb_pwned). The leak: plain objects whose first property is
// named PAYLOADS[0] (DevTools names such objects by their properties: `{<PAYLOADS[0]>, body, note}`),
// held by a Map under the property named PAYLOADS[1] of a module-level registry. (A class's own name
// cannot carry markup: V8 names instances after the inferred source name, an identifier.)
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

const PAYLOADS = [
  '`</code><img src=y onerror="window.__wb_pwned=1">',
  '</script><script>window.__wb_pwned=2</script>',
  '[x](javascript:window.__wb_pwned=3)',
  '" onmouseover="window.__wb_pwned=4" x="',
  '<svg onload=window.__wb_pwned=5>',
  '<img src=y onerror=window.__wb_pwned=6>|`x`',
];

function leaky(i) {
  return { [PAYLOADS[0]]: 'v' + i, body: Buffer.alloc(512), note: PAYLOADS[2] + i };
}

const registry = {};
registry[PAYLOADS[1]] = new Map();          // the holder: a property named with a payload
const shapes = [];                          // plain objects whose shape names are made of payloads

function handler(req, res) {
  const i = Number(req.url.split('/').pop());
  registry[PAYLOADS[1]].set('k' + i, leaky(i));
  if (shapes.length < 50) shapes.push({ [PAYLOADS[3]]: i, [PAYLOADS[4]]: PAYLOADS[5] + i });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 50 }, () => `/put/${n++}`),
  phase: () => Array.from({ length: 600 }, () => `/put/${n++}`),
});
