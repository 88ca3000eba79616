// Runs Chrome DevTools' own heap snapshot code (heap-snapshot-toolkit) on one snapshot and prints,
// as JSON, the name DevTools displays for every concatenated string (JSHeapSnapshotNode.name ->
// consStringName) by node ordinal, and the ordinals its 'duplicatedStrings' filter selects.
// usage: PEER_DIR=... node cons_dump.mjs SNAPSHOT[.gz]
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.PEER_DIR, 'package.json'));
const { parse } = await import(require.resolve('heap-snapshot-toolkit'));

const file = process.argv[2];
let stream = createReadStream(file);
if (file.endsWith('.gz')) stream = stream.pipe(createGunzip());
stream.setEncoding('utf8');
const snap = await parse(stream);

const nf = snap.nodeFieldCount;
const node = snap.createNode(0);
const cons = {};
for (let i = 0; i < snap.nodeCount; i++) {
  node.nodeIndex = i * nf;
  if (node.type() === 'concatenated string') cons[i] = node.name();
}
const filter = snap.createNamedFilter('duplicatedStrings');
const dup = [];
for (let i = 0; i < snap.nodeCount; i++) { node.nodeIndex = i * nf; if (filter(node)) dup.push(i); }
process.stdout.write(JSON.stringify({ cons_names: cons, duplicated_strings: dup }));
