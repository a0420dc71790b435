'use strict';
// The worker thread that runs node operations, one at a time, for the runner's main
// thread (runner.js). It locks itself down before it loads any of n8n's code, and is
// replaced by a fresh one when a node exceeds its time or memory budget.

const { parentPort, workerData } = require('worker_threads');
const { lockdown, reseed } = require('./lockdown');

lockdown({ clock: workerData.clock });
// A promise a node forgot, or a callback that throws after the node finished, must not
// take the worker down with the operations after it.
process.on('unhandledRejection', () => {});
process.on('uncaughtException', () => {});

const path = require('path');
const { createLoader } = require('./packages');
const { Evaluator } = require('./expressions');
const { NodeTypes, NotRunnable } = require('./nodes');
const { CredentialTypes } = require('./credentials');
const { Parameters } = require('./parameters');
const { Recorder, Bounded } = require('./recorder');
const { createContext } = require('./context');

const MAX_BODY_BYTES = 256 * 1024;
const MAX_MESSAGE = 400;
const MAX_ATTEMPTS = 8;

const root = workerData.root;
const packageRoot = path.join(root, 'n8n-nodes-base');
const load = createLoader(root);
load('n8n-workflow'); // before any node: its module graph is shared by every node
const evaluator = new Evaluator(root, load, workerData.clock);
const nodeTypes = new NodeTypes(packageRoot, load);
const credentialTypes = new CredentialTypes(packageRoot, load, evaluator);

function message(error) {
  const text = error && error.message ? String(error.message) : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_MESSAGE) || (error && error.name) || 'unknown error';
}

function boundedCalls(calls) {
  return calls.map((call) => {
    const size = call.body.kind === 'binary' ? call.body.base64.length * 0.75 : JSON.stringify(call.body.value || '').length;
    if (size <= MAX_BODY_BYTES) return call;
    return { ...call, body: { kind: 'none' }, truncated: `a body of about ${Math.round(size)} bytes was left out` };
  });
}

// Which methods of a node type make calls with its credential.
function entryPoints(type, description) {
  const points = [];
  if (type.webhookMethods) {
    for (const [group, methods] of Object.entries(type.webhookMethods)) {
      for (const name of ['checkExists', 'create', 'delete']) {
        if (typeof methods[name] === 'function') points.push({ label: `webhook ${group}.${name}`, run: methods[name] });
      }
    }
  }
  if (typeof type.poll === 'function') points.push({ label: 'poll', run: type.poll });
  if (typeof type.execute === 'function') points.push({ label: 'execute', run: type.execute });
  if (points.length === 0 && (description.requestDefaults || hasRouting(description.properties))) {
    throw new NotRunnable('a declarative node (its requests are described by routing rules), which the import does not run yet', 'record its calls with import-flow from a HAR file');
  }
  return points;
}

function hasRouting(value, depth = 0) {
  if (depth > 12 || value === null || typeof value !== 'object') return false;
  if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, 'routing')) return true;
  return Object.values(value).some((item) => hasRouting(item, depth + 1));
}

function isServiceNode(short, description) {
  return short === 'httpRequest' || (Array.isArray(description.credentials) && description.credentials.length > 0);
}

async function run(request) {
  const { node, workflow, trace } = request;
  reseed(`${workflow.id}\u0000${node.name}`);
  let resolved;
  try {
    resolved = nodeTypes.resolve(node.type, node.typeVersion);
  } catch (error) {
    if (error instanceof NotRunnable) {
      return {
        status: error.unknownType ? 'unknown-type' : error.unknownVersion ? 'unknown-version' : 'not-runnable',
        reason: message(error),
        fix: error.fix,
        calls: [],
      };
    }
    return { status: 'error', reason: `loading the node type failed: ${message(error)}`, calls: [] };
  }
  // Loading a node type's module is not the node's work: its budget starts now.
  parentPort.postMessage({ id: request.id, loaded: true });
  const { short, description } = resolved;
  const credentialed = node.credentials && Object.keys(node.credentials).length > 0;
  if (!isServiceNode(short, description) || (!credentialed && short !== 'httpRequest')) {
    return { status: 'logic', calls: [] };
  }
  // A stand-in answer cannot match everything node code checks (a header row that must
  // hold the mapped columns): a node that fails is run again with the answer of its last
  // call empty, then of the call before, and so on, within a few attempts. The first
  // attempt that finishes wins; otherwise the one that got furthest.
  let best = null;
  const queue = [[]];
  const tried = new Set();
  while (queue.length && tried.size < MAX_ATTEMPTS) {
    const empty = queue.shift();
    const key = empty.join(',');
    if (tried.has(key)) continue;
    tried.add(key);
    reseed(`${workflow.id}\u0000${node.name}`);
    const attempt = await attempt_(node, workflow, resolved, empty, trace);
    if (best === null || better(attempt, best)) best = attempt;
    if (attempt.status === 'ok' || attempt.status === 'not-runnable' || attempt.status === 'bounded') break;
    for (let index = attempt.calls.length - 1; index >= 0; index--) {
      if (!empty.includes(index)) queue.push([...empty, index].sort((a, b) => a - b));
    }
  }
  if (best.status !== 'ok' && tried.size > 1) best.attempts = tried.size;
  return best;
}

function rootCause(error) {
  let current = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof NotRunnable || current instanceof Bounded) return current;
    current = current.cause || current.error || current.originalError;
    if (current !== null && typeof current !== 'object') return error;
  }
  return error;
}

function better(attempt, best) {
  if ((attempt.status === 'ok') !== (best.status === 'ok')) return attempt.status === 'ok';
  return attempt.calls.length > best.calls.length;
}

async function attempt_(node, workflow, resolved, empty, trace) {
  const { type, description } = resolved;
  const recorder = new Recorder(empty);
  const nodeCopy = JSON.parse(JSON.stringify(node));
  const parameters = new Parameters({ node: nodeCopy, description, evaluator, workflow, clock: workerData.clock, load });
  const restore = () => evaluator.begin(parameters.staticData);
  const context = createContext({ node: nodeCopy, workflow, parameters, credentials: credentialTypes, recorder, restore, load });
  let status = 'ok';
  let reason;
  let fix;
  try {
    for (const point of entryPoints(type, description)) {
      await point.run.call(context);
    }
  } catch (error) {
    // Node code often wraps what it catches (NodeApiError(node, error)): the cause decides.
    const cause = rootCause(error);
    if (cause instanceof NotRunnable) {
      status = 'not-runnable';
      fix = cause.fix;
    } else if (cause instanceof Bounded) {
      status = 'bounded';
    } else {
      status = 'error';
    }
    reason = message(cause instanceof NotRunnable || cause instanceof Bounded ? cause : error);
    if (trace) reason += ` | ${String(error && error.stack).split('\n').slice(1, 6).join(' | ')}`;
  }
  return { status, reason, fix, calls: boundedCalls(recorder.finished()), findings: parameters.findings };
}

function describe({ types }) {
  const restore = () => {};
  return { credentials: types.map((name) => credentialTypes.describe(String(name), restore)) };
}

parentPort.on('message', async (request) => {
  let reply;
  try {
    if (request.op === 'run') reply = await run(request);
    else if (request.op === 'describe') reply = describe(request);
    else reply = { status: 'error', reason: `unknown operation ${request.op}` };
  } catch (error) {
    reply = { status: 'error', reason: message(error), calls: [] };
  }
  parentPort.postMessage({ id: request.id, ...reply });
});
parentPort.postMessage({ ready: true });
