'use strict';
// A login service that leaks sessions and holds secrets in every place a heap snapshot can show
// them: the redaction test (tests/report/test_redact.py) plants them, redacts the three snapshots
// with default options and looks for every one of them in the redacted files.
// SECRET-COMMENT-a61f3c9e0b: this comment is part of the script source, which the heap keeps.
//
// Usage: node share_secrets.js OUT_DIR SEED
//   writes OUT_DIR/{baseline,target,final}.heapsnapshot (v8.writeHeapSnapshot with
//   exposeNumericValues, so heap numbers carry their values) and, after the last snapshot,
//   OUT_DIR/markers.json: the planted secrets by category (every 100th of the per-request ones)
//   and the number of requests. SEED (letters and digits) makes the secrets of a run unique.
// The leak: Session objects held by the module-level Map `sessions` (keyed by session id), never
// expired. Beside it the dictionaries (plain objects used as maps) grow too: `bySid` (session id ->
// user name), `byEmail`, `byUrl`, `byNumber`, `byAccount`, `byName` (-> request number); the small
// `featureFlags` stays in fast mode.
// Secrets are built at run time from SEED, so none of them is a literal of this file (a literal
// would be program text, kept in bytecode constant pools); only the comment above and the
// function below are, as source text.
const http = require('http');
const fs = require('fs');
const path = require('path');
const v8 = require('v8');
const { request } = require('./_heap_harness');

const outDir = process.argv[2];
const seed = process.argv[3] || 'q7w3e9';
const PER_PHASE = 600;

function secretSourceFunction() {
  // the text of this function is script source: SECRET-FUNCTION-SOURCE-5d2e8b71
  return 'SECRET-FUNCTION-SOURCE-5d2e8b71'.length;
}

// one marker per category and index; `mk` makes distinct, recognisable strings
const mk = (cat, i) => ['zz', seed, cat, String(i), 'x'].join('');
const seedNum = [...seed].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 100000, 7);
const numberKey = (i) => String(90000000000000 + seedNum * 1000 + i);
const accountKey = (i) => 3000000000 + seedNum * 1000 + i;
// keys that read like words, not ids: only their place in the heap (one dictionary) gives them away
const word = [...seed].map((c) => 'abcdefghijklmnop'[parseInt(c, 16)] || c).join('');
const plainKey = (i) => `${word}name${i}q`;
const flagKey = (k) => `${word}flag${k}q`;

class Session {
  constructor(sid, user, n) {
    this.sid = sid;
    this.user = user;
    this.apiToken = mk('strval', n);         // a string value
    this.lastSeen = seedNum + n + 0.123456789; // a heap number
    this.profile = { name: user, locale: 'en-GB' };
  }
}

const sessions = new Map();  // the leak: keyed by session id, never expired
const bySid = {};            // a dictionary: session id -> user name
const revoked = new Set();   // revoked sessions: Set members
const byEmail = {};          // e-mail addresses as keys
const byUrl = {};            // URLs as keys
const byNumber = {};         // numeric-looking keys beyond the array-index range
const byAccount = {};        // integer keys: element indices of a dictionary
const byName = {};           // word-like keys
const featureFlags = {};     // a small dictionary: fast mode, its keys in one object's hidden class
for (let k = 0; k < 6; k++) featureFlags[flagKey(k)] = k % 2 === 0;
let n = 0;

function login(user) {
  const i = n++;
  const sid = mk('sid', i);
  const s = new Session(sid, user, i);
  sessions.set(mk('mapkey', i), s);
  bySid[sid] = user;
  if (i % 5 === 0) {
    revoked.add(mk('setmember', i));
    byEmail[`${mk('mail', i)}@example.com`] = i;
    byUrl[`https://${mk('url', i)}.example.com/cb`] = i;
    byNumber[numberKey(i)] = i;
    byAccount[accountKey(i)] = i;
    byName[plainKey(i)] = i;
  }
  return s;
}

// closure variables: a per-service secret and a number captured by the handler
function makeHandler() {
  const signingKey = mk('closure', 0);
  const pinCode = seedNum + 0.987654321;
  const audit = new RegExp(mk('regex', 0) + '[0-9]+', 'g');  // a regexp source
  const big = BigInt(seedNum) * 1000000007n + 13n;         // a bigint
  return function handler(req, res) {
    const user = req.url.split('/').pop();
    const s = login(user);
    res.writeHead(200, { 'content-type': 'application/json', 'x-sig': signingKey.length + pinCode });
    res.end(JSON.stringify({ ok: audit.test(s.sid) || big > 0n, fn: secretSourceFunction(),
                             flags: Object.keys(featureFlags).length }));
  };
}

async function sendMany(port, count) {
  const queue = Array.from({ length: count }, (_, k) => `/login/user${n + k}`);
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (queue.length) await request(port, queue.shift());
  }));
}

function snapshot(name) {
  if (global.gc) { global.gc(); global.gc(); }
  v8.writeHeapSnapshot(path.join(outDir, `${name}.heapsnapshot`), { exposeNumericValues: true });
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const server = http.createServer(makeHandler());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  await sendMany(port, 20);
  snapshot('baseline');
  await sendMany(port, PER_PHASE);
  snapshot('target');
  await sendMany(port, PER_PHASE);
  snapshot('final');
  server.close();
  // made after the last snapshot, so that no snapshot holds this list (a sample of each kind)
  const every = (step, f) => Array.from({ length: Math.ceil(n / step) }, (_, k) => f(k * step));
  const markers = {
    string_values: every(100, (i) => mk('strval', i)),
    map_keys: every(100, (i) => mk('mapkey', i)),
    dictionary_keys: every(100, (i) => mk('sid', i)),
    set_members: every(100, (i) => mk('setmember', i)),
    email_keys: every(100, (i) => `${mk('mail', i)}@example.com`),
    url_keys: every(100, (i) => `https://${mk('url', i)}.example.com/cb`),
    number_keys: every(100, numberKey),
    element_keys: every(100, (i) => String(accountKey(i))),
    word_keys: every(100, plainKey),
    small_dictionary_keys: Array.from({ length: 6 }, (_, k) => flagKey(k)),
    heap_numbers: every(100, (i) => String(seedNum + i + 0.123456789)),
    closure_values: [mk('closure', 0)],
    closure_numbers: [String(seedNum + 0.987654321)],
    regexp_sources: [mk('regex', 0)],
    bigints: [String(BigInt(seedNum) * 1000000007n + 13n)],
    requests: n,
  };
  fs.writeFileSync(path.join(outDir, 'markers.json'), JSON.stringify(markers));
  process.exit(0);
}

main();
