// Story: a payment handler logs every step with fs.appendFileSync, so the event loop spends its time in
// synchronous file writes. Usage: node cpu_sync_logging.js [seconds=1.5] [variant=slow|fast]
// "fast" buffers the log lines and writes them once per batch (the fix), for a before/after diff.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { serve } = require('./_cpu_harness');

const seconds = Number(process.argv[2] || 1.5);
const variant = process.argv[3] || 'slow';
const logFile = path.join(os.tmpdir(), `payments-${process.pid}.log`);
let buffered = [];

function logLine(level, msg, fields) {
  const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + '\n';
  if (variant === 'slow') fs.appendFileSync(logFile, line);
  else buffered.push(line);
}

function flushLogs() {
  if (buffered.length) fs.appendFileSync(logFile, buffered.join(''));
  buffered = [];
}

function checkCard(card) {
  let sum = 0;
  for (let k = 0; k < card.length; k++) {
    let d = card.charCodeAt(card.length - 1 - k) - 48;
    if (k % 2) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

function chargePayment(i) {
  const payment = { id: 'pay_' + i, amount: (i * 7919) % 10000, card: '4242424242424242', currency: 'EUR' };
  logLine('info', 'payment received', { id: payment.id, amount: payment.amount });
  if (!checkCard(payment.card)) throw new Error('bad card');
  logLine('debug', 'card checked', { id: payment.id });
  const sig = crypto.createHmac('sha256', 'secret').update(payment.id + payment.amount).digest('hex');
  logLine('info', 'payment authorised', { id: payment.id, sig });
  return sig;
}

function handlePayment(i) {
  chargePayment(i);
  if (variant !== 'slow' && i % 200 === 0) flushLogs();
}

process.on('exit', () => { flushLogs(); try { fs.unlinkSync(logFile); } catch (e) { /* already gone */ } });
serve(handlePayment, seconds);
