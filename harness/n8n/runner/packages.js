'use strict';
// Requiring n8n's code from the fetched packages (in the user's cache directory, never in
// this repository). n8n-nodes-base is fetched without its hundreds of dependencies: a
// module that was not fetched loads as a stand-in, and fails with its name only if a node
// operation really uses it, so that the node is reported instead of the import failing.

const Module = require('module');
const path = require('path');
const { NotRunnable } = require('./nodes');

const BUILTINS = new Set(Module.builtinModules);

function missingModule(name) {
  const fail = () => {
    throw new NotRunnable(`it needs the module ${name}, which the import does not fetch`, 'record this node\'s calls with import-flow instead');
  };
  const handler = {
    get(target, key) {
      if (key === '__esModule' || key === 'then' || typeof key === 'symbol') return undefined;
      if (key === 'default') return proxy;
      return missingModule(`${name}.${String(key)}`);
    },
    apply: fail,
    construct: fail,
    has: () => false,
  };
  const proxy = new Proxy(function missing() {}, handler);
  return proxy;
}

function isBare(request) {
  return !request.startsWith('.') && !request.startsWith('/') && !request.startsWith('node:') && !BUILTINS.has(request.split('/')[0]);
}

let installed = false;

// A require that resolves from `root` (the cache directory holding node_modules/ and
// n8n-nodes-base/), with stand-ins for modules that were not fetched.
function createLoader(root) {
  if (!installed) {
    const originalLoad = Module._load;
    Module._load = function load(request, parent, isMain) {
      try {
        return originalLoad.call(this, request, parent, isMain);
      } catch (error) {
        const missing = error && error.code === 'MODULE_NOT_FOUND' && typeof request === 'string' && isBare(request)
          && String(error.message).includes(`'${request}'`);
        if (missing) return missingModule(request);
        throw error;
      }
    };
    installed = true;
  }
  return Module.createRequire(path.join(root, 'package.json'));
}

module.exports = { createLoader, missingModule };
