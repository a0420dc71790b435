'use strict';
// A node's parameters as n8n's engine hands them to node code: the export's values over
// the description's defaults (n8n-workflow's NodeHelpers decide which are displayed),
// expressions evaluated (expressions.js), resource locators reduced to their value.
// A value that depends on a run becomes a typed placeholder: a string that still routes
// and reads as unknown (it holds `*`, so a narrowing to it is never suggested), 1 for a
// number, false for a boolean.

const { ExpressionProblem } = require('./expressions');

const MARKER = /\u0000(\d+)\u0000/g;
const WHOLE_MARKER = /^\u0000(\d+)\u0000$/;
const EMAIL = /(^|[^a-z])(e-?mail|to|cc|bcc|sendto|replyto|recipients?|from)([^a-z]|$)/i;
const MAX_DEPTH = 32;

function cleanPath(path) {
  return String(path).replace(/^\$/, '').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60) || 'value';
}

function stringPlaceholder(source, parameter) {
  const text = `n8n.${cleanPath(source)}.*`;
  return EMAIL.test(parameter) && !/url|uri|link/i.test(parameter) ? `${text}@example.invalid` : text;
}

// The value for a parameter whose whole value depends on a run.
function typedPlaceholder(source, parameterName, property, clock) {
  const leaf = parameterName.split('.').pop().replace(/\[\d+\]$/, '');
  const type = property && property.type;
  switch (type) {
    case 'number':
      return 1;
    case 'boolean':
      return false;
    case 'dateTime':
      return new Date(clock).toISOString();
    case 'options': {
      const first = (property.options || []).find((o) => o && 'value' in o);
      return first ? first.value : stringPlaceholder(source, leaf);
    }
    case 'multiOptions':
      return [];
    case 'collection':
    case 'fixedCollection':
      return {};
    case 'json':
      return '{}';
    case 'resourceLocator':
      return { __rl: true, mode: 'id', value: stringPlaceholder(source, leaf) };
    default:
      if (/^(url|uri|endpoint|webhookurl)$/i.test(leaf)) {
        return `https://n8n-dynamic.invalid/${cleanPath(source)}`;
      }
      return stringPlaceholder(source, leaf);
  }
}

class Parameters {
  constructor({ node, description, evaluator, workflow, clock, load }) {
    const { NodeHelpers } = load('n8n-workflow');
    this.NodeHelpers = NodeHelpers;
    this.node = node;
    this.description = description;
    this.evaluator = evaluator;
    this.clock = clock;
    this.get = load('lodash/get');
    this.findings = []; // {parameter, kind: dynamic|problem|swallowed, detail}
    this.seen = new Set();
    let full;
    try {
      full = NodeHelpers.getNodeParameters(description.properties, node.parameters || {}, true, false, node, description);
    } catch (error) {
      full = null;
    }
    this.values = full || node.parameters || {};
    node.parameters = this.values; // what getNode() shows, as n8n's engine does
    this.staticData = {
      $workflow: { id: workflow.id, name: workflow.name, active: false },
      $parameter: staticOnly(this.values),
      $runIndex: 0,
      $itemIndex: 0,
      $thisRunIndex: 0,
      $thisItemIndex: 0,
      $mode: 'manual',
      $nodeId: node.id || '',
      $nodeVersion: node.typeVersion,
    };
    evaluator.begin(this.staticData);
  }

  property(name) {
    try {
      return this.NodeHelpers.findDisplayedProperty(name, this.description.properties, this.values, this.node, this.description);
    } catch (error) {
      return undefined;
    }
  }

  // getNodeParameter(name, itemIndex, fallbackValue, options)
  value(name, fallback, options) {
    const raw = this.get(this.values, name, fallback);
    if (raw === undefined) {
      const error = new Error(`Could not get parameter "${name}"`);
      error.name = 'ApplicationError';
      throw error;
    }
    if (options && options.rawExpressions) return raw;
    let value = this.resolve(raw, name, 0);
    if (options && options.extractValue) value = this.extract(value, name);
    if (options && options.ensureType) value = ensureType(options.ensureType, value);
    return value;
  }

  resolve(value, name, depth) {
    if (depth > MAX_DEPTH) return value;
    if (typeof value === 'string' && value.charAt(0) === '=') return this.expression(value.slice(1), name);
    if (Array.isArray(value)) return value.map((item, index) => this.resolve(item, `${name}[${index}]`, depth + 1));
    if (value !== null && typeof value === 'object') {
      const copy = {};
      for (const key of Object.keys(value)) copy[key] = this.resolve(value[key], `${name}.${key}`, depth + 1);
      return copy;
    }
    return value;
  }

  expression(text, name) {
    let result;
    try {
      result = this.evaluator.evaluate(text);
    } catch (error) {
      if (!(error instanceof ExpressionProblem)) throw error;
      this.note(name, 'problem', error.message);
      return typedPlaceholder(`${name}`, name, this.property(name.replace(/\[\d+\]/g, '')), this.clock);
    }
    if (result.dynamic.length === 0) {
      if (result.swallowed) this.note(name, 'swallowed', result.swallowed);
      return result.value === undefined ? '' : result.value;
    }
    this.note(name, 'dynamic', result.dynamic.join(', '));
    const paths = result.dynamic;
    const value = result.value;
    if (value === undefined || value === null || value === '') {
      return typedPlaceholder(paths[paths.length - 1], name, this.property(name.replace(/\[\d+\]/g, '')), this.clock);
    }
    return this.placehold(value, name, paths, 0);
  }

  placehold(value, name, paths, depth) {
    if (typeof value === 'string') {
      const whole = WHOLE_MARKER.exec(value);
      if (whole) {
        return typedPlaceholder(paths[Number(whole[1])] || 'value', name, this.property(name.replace(/\[\d+\]/g, '')), this.clock);
      }
      return value.replace(MARKER, (match, index) => stringPlaceholder(paths[Number(index)] || 'value', ''));
    }
    if (depth > MAX_DEPTH) return value;
    if (Array.isArray(value)) return value.map((item) => this.placehold(item, name, paths, depth + 1));
    if (value !== null && typeof value === 'object') {
      const copy = {};
      for (const key of Object.keys(value)) copy[key] = this.placehold(value[key], `${name}.${key}`, paths, depth + 1);
      return copy;
    }
    return value;
  }

  extract(value, name) {
    if (value === null || typeof value !== 'object' || !('mode' in value) || !('value' in value)) return value;
    const property = this.property(name);
    const mode = property && (property.modes || []).find((m) => m.name === value.mode);
    if (!mode || !mode.extractValue || typeof value.value !== 'string') return value.value;
    if (mode.extractValue.type !== 'regex') return value.value;
    const found = new RegExp(mode.extractValue.regex).exec(value.value);
    if (!found || found.length !== 2) {
      if (value.value.includes('*')) return value.value; // a placeholder is no URL to take apart
      const error = new Error(`the ${property.displayName || name} value is not a valid ${mode.displayName || mode.name}`);
      error.name = 'WorkflowOperationError';
      throw error;
    }
    return found[1];
  }

  note(parameter, kind, detail) {
    const key = `${parameter}\u0000${kind}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push({ parameter, kind, detail: String(detail).slice(0, 300) });
  }
}

// The parameters as `$parameter` sees them: expressions are not values yet.
function staticOnly(value, depth = 0) {
  if (depth > MAX_DEPTH) return null;
  if (typeof value === 'string') return value.charAt(0) === '=' ? undefined : value;
  if (Array.isArray(value)) return value.map((item) => staticOnly(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const copy = {};
    for (const key of Object.keys(value)) {
      const item = staticOnly(value[key], depth + 1);
      if (item !== undefined) copy[key] = item;
    }
    return copy;
  }
  return value;
}

function ensureType(type, value) {
  switch (type) {
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'number':
      return Number(value);
    case 'boolean':
      return Boolean(value);
    case 'json':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value);
        } catch (error) {
          return {};
        }
      }
      return value;
    case 'array':
      return Array.isArray(value) ? value : [value];
    default:
      return value;
  }
}

module.exports = { Parameters, typedPlaceholder, stringPlaceholder };
