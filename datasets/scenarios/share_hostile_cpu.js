'use strict';
// A CPU-bound script for the report tests: a profile's names are data too. Run it from a file whose
// name is an HTML/JavaScript payload (the test copies it so): every frame's url then carries markup.
const PAYLOADS = [
  '`</code><img src=y onerror="window.__wb_pwned=11">',
  '</script><script>window.__wb_pwned=12</script>',
];
const hot = {
  [PAYLOADS[0]](n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) % 7; return s; },
  [PAYLOADS[1]](n) { let s = ''; for (let i = 0; i < n; i++) s = (s + i).slice(-64); return s.length; },
};
const end = Date.now() + Number(process.argv[2] || 1500);
let x = 0;
while (Date.now() < end) { x += hot[PAYLOADS[0]](2e5); x += hot[PAYLOADS[1]](2e4); }
if (x === 42) console.log(x);
