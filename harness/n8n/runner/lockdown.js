'use strict';
// The sandbox a node operation runs in: no socket, no DNS lookup, no child process, no
// long timer, a fixed clock and seeded randomness, so that the calls a node builds are
// recorded, never sent, and the same export always gives the same calls.
//
// Node's permission model (when the runner is started with it) also refuses file writes,
// reads outside the package directories, child processes and native addons; these
// patches hold without it and cover what it does not (the network).

const REFUSED = 'ERR_HARNESS_REFUSED';
const TIMER_BOUND_MS = 60_000; // longer timers are refused; shorter ones fire at once

class Refused extends Error {
  constructor(what) {
    super(`${what} is refused in the connector-harness sandbox (no network, no processes)`);
    this.code = REFUSED;
    this.name = 'Refused';
  }
}

function refuser(what) {
  return function refused() {
    throw new Refused(what);
  };
}

function replaceAll(module, names, label) {
  for (const name of names) {
    if (typeof module[name] === 'function') {
      Object.defineProperty(module, name, {
        value: refuser(`${label}.${name}()`),
        writable: false,
        configurable: false,
      });
    }
  }
}

function functionNames(module) {
  return Object.keys(module).filter((name) => typeof module[name] === 'function');
}

function refuseNetwork() {
  const net = require('net');
  net.Socket.prototype.connect = refuser('a network connection (net.Socket.connect)');
  replaceAll(net, ['connect', 'createConnection', 'createServer'], 'net');
  replaceAll(require('tls'), ['connect', 'createServer'], 'tls');
  for (const name of ['http', 'https']) {
    replaceAll(require(name), ['request', 'get', 'createServer'], name);
  }
  replaceAll(require('http2'), ['connect', 'createServer', 'createSecureServer'], 'http2');
  replaceAll(require('dgram'), ['createSocket'], 'dgram');
  const dns = require('dns');
  replaceAll(dns, functionNames(dns), 'dns');
  replaceAll(dns.promises, functionNames(dns.promises), 'dns.promises');
  dns.Resolver.prototype.resolve = refuser('dns.Resolver.resolve()');
  globalThis.fetch = refuser('fetch()');
}

function refuseProcesses() {
  const childProcess = require('child_process');
  replaceAll(childProcess, functionNames(childProcess), 'child_process');
  replaceAll(require('cluster'), ['fork', 'setupPrimary', 'setupMaster'], 'cluster');
  replaceAll(require('worker_threads'), ['Worker'], 'worker_threads');
  replaceAll(require('inspector'), ['open', 'connect'], 'inspector');
  for (const name of ['binding', '_linkedBinding', 'dlopen', 'kill', 'chdir', 'setuid']) {
    process[name] = refuser(`process.${name}()`);
  }
}

function refuseFileWrites() {
  const fs = require('fs');
  const writers = [
    'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync', 'createWriteStream',
    'mkdir', 'mkdirSync', 'mkdtemp', 'mkdtempSync', 'rm', 'rmSync', 'rmdir', 'rmdirSync',
    'unlink', 'unlinkSync', 'rename', 'renameSync', 'copyFile', 'copyFileSync', 'cp', 'cpSync',
    'symlink', 'symlinkSync', 'link', 'linkSync', 'truncate', 'truncateSync', 'chmod',
    'chmodSync', 'chown', 'chownSync', 'utimes', 'utimesSync',
  ];
  replaceAll(fs, writers, 'fs');
  replaceAll(fs.promises, functionNames(fs.promises).filter((n) => writers.includes(n) || n === 'open'), 'fs.promises');
}

// Timers: a node that waits between pages (rate limiting) must not stall the import, and
// one that schedules work far ahead, or forever, is refused.
function boundTimers() {
  const realSetTimeout = globalThis.setTimeout;
  const realSetImmediate = globalThis.setImmediate;
  globalThis.setTimeout = function boundedTimeout(callback, delay, ...args) {
    if (Number(delay) > TIMER_BOUND_MS) {
      throw new Refused(`a timer of ${Number(delay)} ms (over ${TIMER_BOUND_MS} ms)`);
    }
    return realSetTimeout(callback, 0, ...args);
  };
  globalThis.setInterval = refuser('setInterval()');
  globalThis.setImmediate = realSetImmediate;
  const timers = require('timers');
  timers.setTimeout = globalThis.setTimeout;
  timers.setInterval = globalThis.setInterval;
  const timersPromises = require('timers/promises');
  timersPromises.setTimeout = async (delay, value) => {
    if (Number(delay) > TIMER_BOUND_MS) {
      throw new Refused(`a timer of ${Number(delay)} ms (over ${TIMER_BOUND_MS} ms)`);
    }
    return value;
  };
  timersPromises.setInterval = refuser('timers/promises.setInterval()');
}

// -- determinism ---------------------------------------------------------------------------

let seed = 1;

function nextRandom() {
  // xorshift32: enough for boundaries and ids, and the same for the same seed
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

function fillRandom(buffer) {
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(nextRandom() * 256);
  return buffer;
}

function reseed(text) {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  seed = hash >>> 0 || 1;
}

function seedRandomness() {
  Math.random = nextRandom;
  const crypto = require('crypto');
  crypto.randomBytes = (size, callback) => {
    const buffer = fillRandom(Buffer.alloc(size));
    if (callback) {
      process.nextTick(callback, null, buffer);
      return undefined;
    }
    return buffer;
  };
  crypto.pseudoRandomBytes = crypto.randomBytes;
  crypto.randomFillSync = (buffer, offset = 0, size) => {
    const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    fillRandom(view.subarray(offset, size === undefined ? undefined : offset + size));
    return buffer;
  };
  crypto.randomFill = (buffer, ...rest) => {
    const callback = rest.pop();
    crypto.randomFillSync(buffer, ...rest);
    process.nextTick(callback, null, buffer);
  };
  crypto.randomInt = (min, max, callback) => {
    if (max === undefined || typeof max === 'function') {
      callback = max;
      max = min;
      min = 0;
    }
    const value = min + Math.floor(nextRandom() * (max - min));
    if (callback) {
      process.nextTick(callback, null, value);
      return undefined;
    }
    return value;
  };
  crypto.randomUUID = () => {
    const bytes = fillRandom(Buffer.alloc(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  const getRandomValues = (array) => fillRandom(array);
  setProperty(crypto, 'getRandomValues', getRandomValues);
  for (const holder of [crypto.webcrypto, globalThis.crypto]) {
    if (holder) {
      setProperty(holder, 'getRandomValues', getRandomValues);
      setProperty(holder, 'randomUUID', crypto.randomUUID);
    }
  }
}

function setProperty(holder, key, value) {
  try {
    Object.defineProperty(holder, key, { value, writable: true, configurable: true });
  } catch (error) {
    try {
      holder[key] = value;
    } catch (ignored) {
      // a frozen holder keeps its own: determinism is lost there, never the sandbox
    }
  }
}

function fixClock(instant) {
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(instant);
      else super(...args);
    }
    static now() {
      return instant;
    }
  }
  globalThis.Date = FixedDate;
  const { performance } = require('perf_hooks');
  void performance; // monotonic time is left alone: budgets are measured with it
}

function silenceOutput() {
  // stdout carries the protocol of the main thread; a node's logging must never reach it
  const quiet = () => {};
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table']) {
    console[name] = quiet;
  }
  process.stdout.write = () => true;
  process.stderr.write = () => true;
}

function lockdown({ clock }) {
  silenceOutput();
  refuseNetwork();
  refuseProcesses();
  refuseFileWrites();
  boundTimers();
  seedRandomness();
  fixClock(clock);
  // No secret of the user reaches a node: the environment is reduced to the locale
  for (const key of Object.keys(process.env)) {
    if (!['TZ', 'LANG', 'LC_ALL'].includes(key)) delete process.env[key];
  }
}

module.exports = { lockdown, reseed, Refused, REFUSED, TIMER_BOUND_MS };
