'use strict';
// A service that starts interval timers per request and never clears them: 2,000 timers per phase
// with four durations (30 s, 60 s, 5 min, 1 h) and three callbacks (pollUpstream, refreshToken,
// reportMetrics), each closure holding its own report object. Node keeps the timers of one
// duration in a doubly linked list (_idleNext/_idlePrev) under a TimersList in timerListMap, so a
// shortest-path search sees chains thousands of steps long. Planted: 2,000 Timeout objects new in
// target and alive in final (and 2,000 more after target: the leak still grows).
// Not a leak, on purpose: a two-level fragment cache (strong for the current generation, WeakRefs
// for older ones) whose older generation is dereferenced in the very task that takes the final
// snapshot, so V8 keeps those 500 fragments alive only through its WeakRef keep-during-job list.
// planted: Timeout 2000
const { run } = require('./_heap_harness');
const outDir = process.argv[2];

class UpstreamReport {
  constructor(id) {
    this.id = id;
    this.samples = new Array(16).fill(id);
    this.summary = 'report-' + id + '-' + 'r'.repeat(64);
  }
}

const DURATIONS = [30 * 1000, 60 * 1000, 5 * 60 * 1000, 60 * 60 * 1000];
const upstream = { polls: 0, refreshes: 0, reports: 0 };

function startTimers(i) {
  const report = new UpstreamReport(i);
  const ms = DURATIONS[i % DURATIONS.length];
  // Bug: none of these intervals is cleared when the client goes away.
  switch (i % 3) {
    case 0: setInterval(function pollUpstream() { upstream.polls += report.samples.length; }, ms); break;
    case 1: setInterval(function refreshToken() { upstream.refreshes += report.id; }, ms); break;
    default: setInterval(function reportMetrics() { upstream.reports += report.summary.length; }, ms);
  }
}

class RenderedFragment {
  constructor(id) { this.id = id; this.html = `<li data-id="${id}">` + 'f'.repeat(100) + '</li>'; }
}
let generation = [];
const olderFragments = new Map();
function cacheFragment(i) {
  const f = new RenderedFragment(i);
  generation.push(f);
  olderFragments.set(i, new WeakRef(f));
}

function handler(req, res) {
  const i = Number(req.url.split('/').pop());
  startTimers(i);
  if (i % 4 === 0) cacheFragment(i);
  res.writeHead(200);
  res.end('watching');
}

let n = 0;
run({
  outDir,
  handler,
  warmup: () => Array.from({ length: 40 }, () => `/watch/${n++}`),
  phase: (k) => {
    if (k === 2) generation = [];   // the target phase's fragments are only weakly cached now
    return Array.from({ length: 2000 }, () => `/watch/${n++}`);
  },
  idle: async () => {
    // a cache sweep in the task that writes the final snapshot: deref() keeps the targets alive
    // until the task ends
    let alive = 0;
    for (const ref of olderFragments.values()) if (ref.deref() !== undefined) alive++;
    upstream.fragments = alive;
  },
});
