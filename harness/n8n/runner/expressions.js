'use strict';
// n8n expressions (`={{ ... }}`) evaluated by n8n's own expression machinery, in a V8
// context of their own: the expression is rewritten by n8n's parser (extension syntax,
// then tournament with n8n's sandboxing hooks) on this side, and runs in a `vm` context
// that holds n8n's expression runtime bundle and nothing else: no require, no process,
// no code generation from strings, a time bound, and data that crosses as JSON text only.
//
// Only static values are known at import time (the workflow, the node's parameters, the
// clock). A read of anything that depends on a run ($json, $('Node'), $input, $env, ...)
// yields a marker; a result holding markers is dynamic, and each marker becomes a typed
// placeholder that still routes (see placeholders.js).

const vm = require('vm');
const fs = require('fs');
const path = require('path');

const EVALUATION_TIMEOUT_MS = 250;
const MAX_EXPRESSION_CHARS = 20_000;
const MAX_RESULT_CHARS = 1_000_000;
const MAX_COMPILED = 5_000;

// Runs inside the context, after n8n's runtime bundle. Written here, never taken from input.
const BRIDGE_SOURCE = String.raw`
(function () {
  'use strict';
  var STATIC = null;
  var dynamicPaths = [];
  var swallowed = null;
  var MARK = '\u0000';
  function marker(path) {
    var index = dynamicPaths.indexOf(path);
    if (index < 0) { dynamicPaths.push(path); index = dynamicPaths.length - 1; }
    return MARK + index + MARK;
  }
  var proxies = new WeakMap();
  var PROBES = ['__isError', '__isArray', '__isObject', '__isLuxonDateTime', 'isLuxonDateTime', 'constructor', 'prototype'];
  var STRING_METHODS = ['split', 'trim', 'trimStart', 'trimEnd', 'toLowerCase', 'toUpperCase', 'startsWith',
    'endsWith', 'replace', 'replaceAll', 'match', 'padStart', 'padEnd', 'substring', 'substr', 'slice',
    'charAt', 'concat', 'normalize', 'repeat', 'includes', 'indexOf', 'at'];
  var ARRAY_METHODS = ['join', 'map', 'filter', 'find', 'forEach', 'flat', 'flatMap', 'reduce', 'some', 'every'];
  function dynamicValue(path) {
    // A value that depends on a run ($json.body, $('Node').item.json): every read of it is
    // dynamic too, and as text it is a marker the caller turns into a placeholder.
    marker(path);
    var proxy = new Proxy(function dynamic() {}, {
      get: function (target, key) {
        if (typeof key === 'symbol') {
          if (key === Symbol.toPrimitive) {
            return function (hint) { return hint === 'number' ? 1 : marker(path); };
          }
          if (key === Symbol.iterator) return Array.prototype[Symbol.iterator].bind([dynamicValue(path + '.0')]);
          return undefined;
        }
        if (key === 'then' || key === 'toJSON' || PROBES.indexOf(key) >= 0) return undefined;
        if (key === 'toString' || key === 'valueOf') return function () { return marker(path); };
        if (key === 'length') return 1;
        if (STRING_METHODS.indexOf(key) >= 0) {
          var text = marker(path);
          return function () { return String.prototype[key].apply(text, arguments); };
        }
        if (ARRAY_METHODS.indexOf(key) >= 0) {
          var list = [dynamicValue(path + '.0')];
          return function () { return Array.prototype[key].apply(list, arguments); };
        }
        return dynamicValue(path + '.' + key);
      },
      apply: function () { return dynamicValue(path); },
      has: function (target, key) { return typeof key === 'string' && PROBES.indexOf(key) < 0; },
      ownKeys: function () { return ['prototype']; },
      getOwnPropertyDescriptor: function (target, key) { return Object.getOwnPropertyDescriptor(target, key); }
    });
    proxies.set(proxy, path);
    return proxy;
  }
  function isDynamicRoot(name) {
    return typeof name === 'string' && name.charAt(0) === '$' && !(name in STATIC);
  }
  function describe(value) {
    if (Array.isArray(value)) return { __isArray: true, __length: value.length, __data: null };
    if (value !== null && typeof value === 'object') return { __isObject: true, __keys: Object.keys(value) };
    return value;
  }
  function at(pathArr) {
    var value = STATIC;
    for (var i = 0; i < pathArr.length; i++) {
      if (value === null || value === undefined) return undefined;
      if (!Object.prototype.hasOwnProperty.call(value, pathArr[i])) return undefined;
      value = value[pathArr[i]];
    }
    return value;
  }
  var callbacks = {
    getValueAtPath: function (pathArr) {
      var root = pathArr[0];
      if (isDynamicRoot(root)) {
        if (pathArr.length === 1 && root !== '$env' && root !== '$vars' && root !== '$secrets') {
          return { __isObject: true, __keys: [] };
        }
        return dynamicValue(pathArr.join('.').replace(/^\$/, ''));
      }
      return describe(at(pathArr));
    },
    getArrayElement: function (pathArr, index) {
      if (isDynamicRoot(pathArr[0])) return dynamicValue(pathArr.concat([index]).join('.').replace(/^\$/, ''));
      var array = at(pathArr);
      if (!Array.isArray(array) || index < 0 || index >= array.length) return undefined;
      return describe(array[index]);
    },
    callHost: function (message) {
      var node = message && message.nodeName ? String(message.nodeName) : 'input';
      var kind = message && message.type ? String(message.type) : 'call';
      if (kind === 'getItems' || kind === 'getNodeAll' || kind === 'getInputAll') {
        return [dynamicValue(node)];
      }
      if (kind === 'fromAi') return marker('fromAI.' + String(message.name));
      return dynamicValue(node);
    }
  };
  globalThis.E = function (error) {
    var name = error && error.name;
    if (name === 'ExpressionError' || name === 'ExpressionExtensionError') throw error;
    swallowed = String((error && error.message) || error);
    return undefined;
  };
  var context = null;
  globalThis.__harnessBegin = function (input, timezone) {
    STATIC = JSON.parse(input);
    context = buildContext(callbacks, timezone);
  };
  globalThis.__harnessRun = function (body) {
    dynamicPaths = [];
    swallowed = null;
    var value;
    try {
      value = body.call(context);
    } catch (error) {
      return JSON.stringify({ error: String((error && error.message) || error), name: String(error && error.name) });
    }
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && proxies.has(value)) {
      value = marker(proxies.get(value));
    }
    if (typeof value === 'function') return JSON.stringify({ error: 'the expression is a function; call it with ()' });
    var text = JSON.stringify({ value: __prepareForTransfer(value), dynamic: dynamicPaths, swallowed: swallowed });
    return text === undefined ? JSON.stringify({ value: null, dynamic: dynamicPaths, swallowed: swallowed }) : text;
  };
})();
`;

const begin = new vm.Script('__harnessBegin(__harnessInput, "UTC")', { filename: 'begin.js' });

class ExpressionProblem extends Error {
  constructor(message) {
    super(message);
    this.name = 'ExpressionProblem';
  }
}

class Evaluator {
  // `load` requires a module from the fetched packages (see packages.js)
  constructor(root, load, clock) {
    const runtime = path.join(root, 'node_modules', '@n8n', 'expression-runtime', 'dist', 'bundle', 'runtime.iife.js');
    const sandboxing = load('n8n-workflow/dist/cjs/expression-sandboxing.js');
    const { extendSyntax } = load('n8n-workflow/dist/cjs/extensions/expression-extension.js');
    const { Tournament } = load('@n8n/tournament');
    this.extendSyntax = extendSyntax;
    this.tournament = new Tournament(() => {}, undefined, undefined, {
      before: [sandboxing.ThisSanitizer],
      after: [sandboxing.PrototypeSanitizer, sandboxing.DollarSignValidator],
    });
    this.context = vm.createContext(Object.create(null), {
      name: 'n8n expressions',
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    });
    const clockSource = `(function () {
      var RealDate = Date, instant = ${Number(clock)};
      function FixedDate() {
        var args = Array.prototype.slice.call(arguments);
        if (!(this instanceof FixedDate)) return new RealDate(instant).toString();
        return args.length === 0 ? new RealDate(instant) : new (Function.prototype.bind.apply(RealDate, [null].concat(args)))();
      }
      FixedDate.prototype = RealDate.prototype;
      FixedDate.now = function () { return instant; };
      FixedDate.UTC = RealDate.UTC;
      FixedDate.parse = RealDate.parse;
      globalThis.Date = FixedDate;
      globalThis.global = globalThis;
    })();`;
    vm.runInContext(clockSource, this.context, { timeout: 1000 });
    new vm.Script(fs.readFileSync(runtime, 'utf8'), { filename: 'n8n-expression-runtime.js' })
      .runInContext(this.context, { timeout: 10_000 });
    vm.runInContext(BRIDGE_SOURCE, this.context, { filename: 'harness-bridge.js', timeout: 1000 });
    this.compiled = new Map();
  }

  script(expression) {
    let script = this.compiled.get(expression);
    if (script !== undefined) return script;
    if (/\.\s*constructor/m.test(expression)) {
      throw new ExpressionProblem('the expression calls a constructor, which n8n refuses too');
    }
    let code;
    try {
      const [transformed] = this.tournament.getExpressionCode(this.extendSyntax(expression));
      code = transformed;
    } catch (error) {
      throw new ExpressionProblem(`the expression cannot be parsed: ${error.message}`);
    }
    script = new vm.Script(`__harnessRun(function () {\n${code}\n})`, {
      filename: 'expression.js',
    });
    if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
    this.compiled.set(expression, script);
    return script;
  }

  // The static values the next evaluations see ($workflow, $parameter, ...): once per node.
  begin(staticData) {
    this.context.__harnessInput = JSON.stringify(staticData);
    try {
      begin.runInContext(this.context, { timeout: 1000 });
    } finally {
      this.context.__harnessInput = undefined;
    }
  }

  // `text` is a parameter value without its leading `=`. Returns {value, dynamic: [paths],
  // swallowed}; throws ExpressionProblem when the expression cannot be evaluated.
  evaluate(text) {
    if (text.length > MAX_EXPRESSION_CHARS) {
      throw new ExpressionProblem(`the expression is ${text.length} characters long (over ${MAX_EXPRESSION_CHARS})`);
    }
    const script = this.script(text);
    let output;
    try {
      output = script.runInContext(this.context, { timeout: EVALUATION_TIMEOUT_MS });
    } catch (error) {
      const message = String(error && error.message);
      if (message.includes('timed out')) {
        throw new ExpressionProblem(`the expression did not finish within ${EVALUATION_TIMEOUT_MS} ms`);
      }
      throw new ExpressionProblem(`the expression failed: ${message}`);
    }
    if (typeof output !== 'string' || output.length > MAX_RESULT_CHARS) {
      throw new ExpressionProblem('the expression result is too large');
    }
    const result = JSON.parse(output);
    if (result.error !== undefined) {
      throw new ExpressionProblem(`the expression failed: ${result.error}`);
    }
    return result;
  }
}

module.exports = { Evaluator, ExpressionProblem };
