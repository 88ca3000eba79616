// Story: an e-mail validator with a catastrophic-backtracking regex ((a+)+ shape) eats the CPU on inputs
// that almost match. Usage: node cpu_regex.js [seconds=1.5] [variant=slow|fast]
'use strict';
const { serve } = require('./_cpu_harness');

const seconds = Number(process.argv[2] || 1.5);
const variant = process.argv[3] || 'slow';
const EMAIL_SLOW = /^([a-zA-Z0-9]+)*@example\.com$/;
const EMAIL_FAST = /^[a-zA-Z0-9]+@example\.com$/;

function validateEmail(s) {
  return (variant === 'slow' ? EMAIL_SLOW : EMAIL_FAST).test(s);
}

function parseSignup(i) {
  // every 4th address is almost valid: a long local part and a wrong domain, the backtracking case
  const local = 'user' + 'a'.repeat(14 + (i % 4)) + i;
  return { email: i % 4 === 0 ? local + '@example.org' : local + '@example.com', name: 'n' + i };
}

function handleSignup(i) {
  const form = parseSignup(i);
  return validateEmail(form.email) ? 201 : 400;
}

serve(handleSignup, seconds);
