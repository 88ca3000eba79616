'use strict';
// A login service that stores sessions in a module-level Map with no expiry. The leak: Session
// objects held by the Map `sessions`.
// planted: Session 2000
const { run } = require('./_heap_harness');
const crypto = require('crypto');
const outDir = process.argv[2];

class Session {
  constructor(user) {
    this.user = user;
    this.token = crypto.randomBytes(16).toString('hex');
    this.roles = ['reader', 'writer'];
    this.lastSeen = Date.now();
    this.profile = { name: user, locale: 'en-GB', flags: { beta: false } };
  }
}

const sessions = new Map(); // never expired: the planted leak

function handler(req, res) {
  const user = req.url.split('/').pop();
  const s = new Session(user);
  sessions.set(s.token, s);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ token: s.token }));
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => [],
  phase: () => Array.from({ length: 2000 }, () => `/login/user${n++}`),
});
