'use strict';
// connector-harness's n8n runner: runs n8n node operations with their HTTP calls recorded,
// never sent, for one whole import. Started by harness/n8n/runner.py.
//
// Protocol: one JSON object per line on stdin, one answer per line on stdout, in order.
//   {"id": 1, "op": "hello"}                      -> {"id": 1, "ok": true, "node": "v20.x", ...}
//   {"id": 2, "op": "describe", "types": [...]}   -> {"id": 2, "credentials": [...]}
//   {"id": 3, "op": "run", "node": {...}, "workflow": {"id", "name"}, "budget": {"ms": 10000}}
//                                                 -> {"id": 3, "status": "ok", "calls": [...], ...}
//   {"id": 4, "op": "shutdown"}                   -> {"id": 4, "ok": true}, then exit
// Node code runs in a worker thread with a memory limit; one that runs past its time
// budget (counted from when its node type is loaded: the worker says `loaded`), or runs out of memory, is terminated and answered `timeout` / `memory`, and the
// next operation gets a fresh worker. Nothing but answers is ever written to stdout.

const path = require('path');
const readline = require('readline');
const { Worker } = require('worker_threads');

const [root, clockText, memoryText] = process.argv.slice(2);
const clock = Number(clockText);
const memoryMb = Number(memoryText) || 256;
const WORKER = path.join(__dirname, 'worker.js');
const DEFAULT_BUDGET_MS = 10_000;
const START_BUDGET_MS = 60_000;

let worker = null;
let ready = null;
const output = process.stdout;

function send(answer) {
  output.write(`${JSON.stringify(answer)}\n`);
}

function start() {
  worker = new Worker(WORKER, {
    workerData: { root, clock },
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
    stdout: true,
    stderr: true,
    env: {},
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const current = worker;
  ready = new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message && message.ready) {
        current.off('message', onMessage);
        resolve();
      }
    };
    current.on('message', onMessage);
    current.once('error', reject);
    current.once('exit', (code) => reject(new Error(`the runner's worker stopped while starting (exit code ${code})`)));
  });
  ready.catch(() => {});
  return ready;
}

function stop() {
  if (worker) {
    const old = worker;
    worker = null;
    ready = null;
    old.terminate().catch(() => {});
  }
}

// One operation in the worker, answered within its budget whatever the node does.
async function inWorker(request, budgetMs) {
  if (!worker) start();
  const current = worker;
  const started = Date.now();
  try {
    await withTimeout(ready, START_BUDGET_MS, 'starting the runner took too long');
  } catch (error) {
    stop();
    if (isOutOfMemory(error)) return outOfMemory();
    return { status: 'error', reason: `the runner could not start: ${error.message}`, calls: [] };
  }
  return await new Promise((resolve) => {
    let settled = false;
    const finish = (answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current.off('message', onMessage);
      current.off('error', onError);
      current.off('exit', onExit);
      resolve(answer);
    };
    const onMessage = (message) => {
      if (!message || message.id !== request.id) return;
      if (message.loaded) {
        // The node type is loaded (slow on a busy machine): the node's own budget starts.
        clearTimeout(timer);
        timer = setTimeout(timeout, budgetMs);
        return;
      }
      finish(message);
    };
    const onError = (error) => {
      stop();
      finish(isOutOfMemory(error)
        ? outOfMemory()
        : { status: 'error', reason: `the node crashed the runner: ${String(error && error.message).slice(0, 300)}`, calls: [] });
    };
    const onExit = () => {
      if (worker === current) stop();
      finish({ status: 'error', reason: 'the runner stopped while running the node', calls: [] });
    };
    const timeout = () => {
      stop();
      const limit = budgetMs >= 1000 ? `${Math.round(budgetMs / 1000)} s` : `${budgetMs} ms`;
      finish({ status: 'timeout', reason: `it did not finish within ${limit} (a loop, or a wait); it was stopped`, calls: [], elapsed: Date.now() - started });
    };
    // Until the node type is loaded, the start-up budget applies (see the `loaded` message).
    let timer = setTimeout(timeout, START_BUDGET_MS + budgetMs);
    current.on('message', onMessage);
    current.once('error', onError);
    current.once('exit', onExit);
    current.postMessage(request);
  });
}

function isOutOfMemory(error) {
  return Boolean(error) && (error.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory|heap limit/i.test(String(error.message)));
}

function outOfMemory() {
  return { status: 'memory', reason: `it needed more than the ${memoryMb} MB memory budget; it was stopped`, calls: [] };
}

function withTimeout(promise, ms, text) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(text)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function handle(request) {
  switch (request.op) {
    case 'hello': {
      const nodesBase = require(path.join(root, 'n8n-nodes-base', 'package.json'));
      const workflow = require(path.join(root, 'node_modules', 'n8n-workflow', 'package.json'));
      return {
        ok: true,
        node: process.version,
        packages: { 'n8n-nodes-base': nodesBase.version, 'n8n-workflow': workflow.version },
        permissions: typeof process.permission === 'object' && process.permission !== null,
      };
    }
    case 'describe':
      return await inWorker(request, START_BUDGET_MS);
    case 'run': {
      const budget = Math.min(Math.max(Number(request.budget && request.budget.ms) || DEFAULT_BUDGET_MS, 100), 120_000);
      return await inWorker(request, budget);
    }
    case 'shutdown':
      return { ok: true };
    default:
      return { status: 'error', reason: `unknown operation ${String(request.op).slice(0, 40)}` };
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      send({ id: null, status: 'error', reason: 'the request is not JSON' });
      continue;
    }
    let answer;
    try {
      answer = await handle(request);
    } catch (error) {
      answer = { status: 'error', reason: String(error && error.message).slice(0, 300) };
    }
    send({ ...answer, id: request.id });
    if (request.op === 'shutdown') break;
  }
  stop();
  process.exit(0);
}

main();
