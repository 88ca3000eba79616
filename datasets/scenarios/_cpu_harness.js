// Shared by the cpu_*.js scenarios: run a request handler in a loop for a fixed time, as a service
// under load would, then exit (so --cpu-prof/--prof/--heap-prof write their files).
'use strict';
exports.serve = function serve(handler, seconds) {
  const t0 = Date.now();
  let i = 0;
  // setImmediate between batches: the event loop turns, as in a real server, and the profile shows it
  function batch() {
    const end = Math.min(Date.now() + 50, t0 + seconds * 1000);
    while (Date.now() < end) handler(i++);
    if (Date.now() < t0 + seconds * 1000) setImmediate(batch);
    else process.stdout.write(`requests ${i}\n`);
  }
  batch();
};
