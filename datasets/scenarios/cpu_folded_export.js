// Writes Brendan Gregg folded stacks ("root;...;leaf count") from a .cpuprofile, counting the samples
// array (one line per distinct stack, frames "name url:line:col" with 1-based line/column as 0x labels
// them). An independent writer of the format, so workbench's folded reader is checked against it.
// Usage: node cpu_folded_export.js IN.cpuprofile > OUT.folded
'use strict';
const fs = require('fs');
const prof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
const label = (n) => {
  const cf = n.callFrame;
  const name = (cf.functionName || '(anonymous)').replace(/;/g, ':');
  return cf.url ? `${name} ${cf.url.replace(/;/g, ':')}:${cf.lineNumber + 1}:${cf.columnNumber + 1}` : name;
};
const counts = new Map();
for (const id of prof.samples) {
  const stack = [];
  for (let x = id; parent.has(x); x = parent.get(x)) stack.push(label(byId.get(x)));  // the root has no parent
  if (!stack.length) continue;  // a sample on the root itself has no frames to write
  const key = stack.reverse().join(';');
  counts.set(key, (counts.get(key) || 0) + 1);
}
const out = [];
for (const [k, v] of counts) out.push(`${k} ${v}\n`);
process.stdout.write(out.join(''));
