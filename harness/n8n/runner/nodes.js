'use strict';
// Node types of the fetched n8n-nodes-base: which class implements a type name, which
// versions it has, and what kind of node it is (a service node that calls an API, a
// trigger, logic, code that cannot be run).

const path = require('path');

const BASE_PREFIX = 'n8n-nodes-base.';
const AI_PREFIX = '@n8n/n8n-nodes-langchain.';
// Nodes that run code the user wrote: never run, always reported.
const CODE_NODES = new Set(['code', 'function', 'functionItem', 'executeCommand', 'ssh', 'aiTransform']);

class NotRunnable extends Error {
  constructor(reason, fix) {
    super(reason);
    this.name = 'NotRunnable';
    this.fix = fix || '';
  }
}

class NodeTypes {
  constructor(packageRoot, load) {
    this.root = packageRoot;
    this.load = load;
    this.known = load(path.join(packageRoot, 'dist', 'known', 'nodes.json'));
    this.loaded = new Map();
  }

  // {type, description, short} for a node of the export, or throws NotRunnable.
  resolve(typeName, version) {
    const name = String(typeName || '');
    if (name.startsWith(AI_PREFIX)) {
      throw new NotRunnable(
        'an AI node (@n8n/n8n-nodes-langchain), which is not part of n8n-nodes-base',
        'AI nodes call their model providers at run time; check their credentials by hand',
      );
    }
    if (!name.startsWith(BASE_PREFIX)) {
      throw new NotRunnable(
        `a community or custom node (${name.split('.')[0] || 'no package'}), which is not part of n8n-nodes-base`,
        'record its calls with import-flow from a HAR file instead',
      );
    }
    const short = name.slice(BASE_PREFIX.length);
    if (CODE_NODES.has(short)) {
      throw new NotRunnable(
        `a ${short} node runs code written in the workflow, which the import never runs`,
        'record the calls it makes (import-flow from a HAR file) or move them to service nodes',
      );
    }
    const entry = Object.prototype.hasOwnProperty.call(this.known, short) ? this.known[short] : null;
    if (!entry) {
      const error = new NotRunnable(`${name} is not a node type of the pinned n8n-nodes-base`, 'check the type name, or pin the n8n version the workflow was exported from');
      error.unknownType = true;
      throw error;
    }
    const nodeType = this.instance(short, entry);
    let versioned = nodeType;
    if (nodeType.nodeVersions) {
      const versions = Object.keys(nodeType.nodeVersions).map(Number).sort((a, b) => a - b);
      const wanted = version === undefined || version === null ? nodeType.currentVersion : Number(version);
      if (!Object.prototype.hasOwnProperty.call(nodeType.nodeVersions, String(wanted))) {
        const error = new NotRunnable(
          `version ${version} of ${name} is not in the pinned n8n-nodes-base (it has ${versions.join(', ')})`,
          'export the workflow from the n8n version whose package is pinned, or update the node in n8n',
        );
        error.unknownVersion = true;
        throw error;
      }
      versioned = nodeType.nodeVersions[String(wanted)];
    } else {
      const declared = nodeType.description && nodeType.description.version;
      const versions = Array.isArray(declared) ? declared : [declared];
      if (version !== undefined && version !== null && declared !== undefined && !versions.map(Number).includes(Number(version))) {
        const error = new NotRunnable(
          `version ${version} of ${name} is not in the pinned n8n-nodes-base (it has ${versions.join(', ')})`,
          'export the workflow from the n8n version whose package is pinned, or update the node in n8n',
        );
        error.unknownVersion = true;
        throw error;
      }
    }
    return { short, type: versioned, description: versioned.description };
  }

  instance(short, entry) {
    if (this.loaded.has(short)) return this.loaded.get(short);
    const file = path.join(this.root, entry.sourcePath);
    const Class = this.load(file)[entry.className];
    if (typeof Class !== 'function') throw new NotRunnable(`${short}: its class ${entry.className} is missing from the package`);
    const instance = new Class();
    this.loaded.set(short, instance);
    return instance;
  }
}

module.exports = { NodeTypes, NotRunnable, CODE_NODES, BASE_PREFIX };
