'use strict';
// A live target for workbench.capture: an HTTP login service on 127.0.0.1 that stores every
// Session in a module-level Map (the planted leak) and renders a JSON page per request (CPU work).
// Options: --sessions N   create N sessions before reporting ready (a known, quiescent heap)
//          --ballast N    keep N small objects alive (a bigger heap, slower snapshots)
//          --load MS      drive its own traffic: one request every MS milliseconds
// Prints one JSON line {"pid", "port"} on stdout when ready; runs until killed.
const http = require('http');
const crypto = require('crypto');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

class Session {
  constructor(user) {
    this.user = user;
    this.token = crypto.randomBytes(8).toString('hex');
    this.roles = ['reader', 'writer'];
    this.createdAt = Date.now();
  }
}

const sessions = new Map(); // never expired: the planted leak
const ballast = [];

function renderPage(user) {
  // CPU work that shows up in a profile under its own name.
  const rows = [];
  for (let i = 0; i < 200; i++) rows.push({ i, user, score: Math.sqrt(i * 7919) });
  return JSON.stringify({ user, rows });
}

function login(user) {
  const s = new Session(user);
  sessions.set(s.token, s);
  return s;
}

const server = http.createServer((req, res) => {
  const user = req.url.split('/').pop() || 'anon';
  const s = login(user);
  const body = renderPage(user);
  // (the handler uses `ballast`, so the closure keeps it alive)
  res.writeHead(200, { 'content-type': 'application/json', 'x-token': s.token, 'x-ballast': ballast.length });
  res.end(body);
});

for (let i = 0; i < arg('--sessions', 0); i++) login(`user${i}`);
for (let i = 0; i < arg('--ballast', 0); i++) ballast.push({ i, tag: 'ballast' });

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const every = arg('--load', 0);
  if (every > 0) {
    let n = 0;
    setInterval(() => {
      http.get({ host: '127.0.0.1', port, path: `/login/u${n++}`, agent: false }, (r) => r.resume())
        .on('error', () => {});
    }, every);
  }
  process.stdout.write(JSON.stringify({ pid: process.pid, port }) + '\n');
});
