'use strict';
// n8n's request helpers, replaced: each call a node makes is normalised (method, URL with
// its query, headers, body) and recorded, never sent. The node receives a stand-in
// response: an object that answers any read with a plausible value (an id, a list of one
// item, no next page), so that the node goes on to its next call as it would after a real
// answer. Pagination ends after the first page; a route called again and again gets empty
// answers, and a node that keeps calling is stopped.

const { Readable } = require('stream');

const MAX_CALLS = 40; // per node operation
const REPEATS_ANSWERED = 3; // calls to one route that get a full stand-in answer
const MAX_DEPTH = 6;
const TOKEN_ENDPOINTS = [
  /^https:\/\/oauth2\.googleapis\.com\/token$/,
  /^https:\/\/www\.googleapis\.com\/oauth2\/v4\/token$/,
  /^https:\/\/login\.microsoftonline\.com\/[^/]+\/oauth2\/v2\.0\/token$/,
  /^https:\/\/github\.com\/login\/oauth\/access_token$/,
];
// Keys a stand-in answers with "nothing": no next page, no error.
const NOTHING = /^(more|after|before|offset|links|_links|paging|pagination|error|errors|error_description|errormessage|error_message|fault|failure|warning|warnings|retry-after|retry_after|deleted|archived|is_archived|ratelimit|__isError|isLuxonDateTime|then|toJSON|asymmetricMatch|nodeType|\$\$typeof)$/i;
// Pagination of any spelling (nextPageToken, next_cursor, @odata.nextLink, nextRecordsUrl,
// has_more, continuationToken, scroll_id): the first page is the last one.
const PAGINATION = /next|cursor|continu|has_?more|more_?(results|pages)|page_?token|scroll/i;
const TRUE_KEYS = /^(ok|success|successful)$/i;
// Methods a stand-in lends from arrays and strings. Names that are as often data keys
// (`values` of a Sheets range, `keys`, `entries`, `link`, `sub`) are left to the data.
const ARRAY_METHODS = new Set([
  'map', 'forEach', 'reduce', 'reduceRight', 'slice', 'concat', 'join', 'push', 'pop', 'shift',
  'unshift', 'splice', 'sort', 'reverse', 'flat', 'flatMap', 'at',
]);
const STRING_METHODS = new Set([
  'split', 'trim', 'trimStart', 'trimEnd', 'toLowerCase', 'toUpperCase', 'startsWith', 'endsWith',
  'replace', 'replaceAll', 'match', 'matchAll', 'padStart', 'padEnd', 'substring', 'substr', 'charAt',
  'charCodeAt', 'codePointAt', 'normalize', 'localeCompare', 'repeat', 'search',
]);

class Bounded extends Error {
  constructor(message) {
    super(message);
    this.name = 'Bounded';
    this.code = 'ERR_HARNESS_BOUNDED';
  }
}

function placeholderText(path) {
  const key = path.split('.').filter((part) => part && !/^\d+$/.test(part)).pop() || 'value';
  return `n8n.response.${key.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40)}.*`;
}

// A lookup in a stand-in list finds what it looks for: the node goes on as it would with
// the item it expected (a sheet by id, a label by name) instead of failing "not found".
const LOOKUPS = {
  find() {
    return this[0];
  },
  findLast() {
    return this[0];
  },
  filter() {
    return [this[0]];
  },
  findIndex() {
    return 0;
  },
  findLastIndex() {
    return 0;
  },
  indexOf() {
    return 0;
  },
  lastIndexOf() {
    return 0;
  },
  some() {
    return true;
  },
  every() {
    return true;
  },
  includes() {
    return true;
  },
};

// A stand-in answer. `empty`: the route was answered enough, every list is empty.
// `reads` collects the values node code took from it (path -> value): they become the
// step's recorded answer, so that an id a later call uses is the id this call answered.
function standIn(path, depth, empty, reads = new Map(), at = []) {
  const overlay = new Map();
  const target = empty ? [] : [undefined];
  const text = placeholderText(path);
  const read = (value) => {
    if (at.length) reads.set(at.join('\u0000'), value);
    return value;
  };
  const child = (key) => standIn(`${path}.${key}`, depth + 1, empty, reads, [...at, String(key)]);
  return new Proxy(target, {
    get(object, key) {
      if (overlay.has(key)) return overlay.get(key);
      if (typeof key === 'symbol') {
        if (key === Symbol.toPrimitive) return (hint) => read(hint === 'number' ? (empty ? 0 : 1) : text);
        if (key === Symbol.iterator) return Array.prototype[Symbol.iterator].bind(receiver());
        if (key === Symbol.toStringTag) return undefined;
        return undefined;
      }
      if (key === 'length') return empty ? 0 : 1;
      if (key === '0') return empty || depth >= MAX_DEPTH ? undefined : child('0');
      if (key === 'toString' || key === 'valueOf' || key === 'toLocaleString') return () => read(text);
      if (key === 'constructor') return Object;
      if (NOTHING.test(key) || PAGINATION.test(key)) return undefined;
      if (TRUE_KEYS.test(key)) return true;
      if (!empty && Object.prototype.hasOwnProperty.call(LOOKUPS, key)) return LOOKUPS[key];
      if (ARRAY_METHODS.has(key)) return Array.prototype[key];
      if (STRING_METHODS.has(key)) return String.prototype[key].bind(read(text));
      if (depth >= MAX_DEPTH) return empty ? undefined : text;
      const made = child(key);
      overlay.set(key, made);
      return made;
    },
    set(object, key, value) {
      overlay.set(key, value);
      return true;
    },
    deleteProperty(object, key) {
      overlay.set(key, undefined);
      return true;
    },
    has(object, key) {
      return typeof key === 'string' && !NOTHING.test(key) && !PAGINATION.test(key);
    },
  });
  function receiver() {
    return empty ? [] : [child('0')];
  }
}

// The values node code read from a stand-in, as the JSON answer that holds them.
function answered(reads) {
  let root = null;
  for (const [joined, value] of reads) {
    const keys = joined.split('\u0000');
    if (root === null) root = /^\d+$/.test(keys[0]) ? [] : {};
    let node = root;
    keys.forEach((key, index) => {
      const last = index === keys.length - 1;
      const slot = Array.isArray(node) ? Number(key) : key;
      if (last) {
        if (node[slot] === undefined || typeof node[slot] !== 'object') node[slot] = value;
        return;
      }
      if (node[slot] === undefined || typeof node[slot] !== 'object' || node[slot] === null) {
        node[slot] = /^\d+$/.test(keys[index + 1]) ? [] : {};
      }
      node = node[slot];
    });
  }
  return root;
}

// -- normalising the options of each helper --------------------------------------------------

function axiosEncode(text) {
  return encodeURIComponent(text)
    .replace(/%3A/gi, ':')
    .replace(/%24/g, '$')
    .replace(/%2C/gi, ',')
    .replace(/%20/g, '+')
    .replace(/%5B/gi, '[')
    .replace(/%5D/gi, ']');
}

function queryPairs(value, prefix, format, pairs) {
  if (value === undefined || value === null || typeof value === 'function') return pairs;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const key = format === 'repeat' ? prefix : format === 'indices' ? `${prefix}[${index}]` : `${prefix}[]`;
      queryPairs(item, key, format, pairs);
    });
  } else if (typeof value === 'object' && !(value instanceof Date)) {
    for (const key of Object.keys(value)) queryPairs(value[key], prefix ? `${prefix}[${key}]` : key, format, pairs);
  } else {
    pairs.push([prefix, value instanceof Date ? value.toISOString() : String(value)]);
  }
  return pairs;
}

function withQuery(url, qs, format) {
  if (!qs || typeof qs !== 'object' || Object.keys(qs).length === 0) return url;
  const pairs = queryPairs(qs, '', format, []);
  if (pairs.length === 0) return url;
  const text = pairs.map(([key, value]) => `${axiosEncode(key)}=${axiosEncode(value)}`).join('&');
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  return base + (base.includes('?') ? '&' : '?') + text;
}

function headersOf(raw) {
  const headers = {};
  if (raw && typeof raw === 'object') {
    for (const key of Object.keys(raw)) {
      const value = raw[key];
      if (value === undefined || value === null) continue;
      headers[String(key)] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    }
  }
  return headers;
}

function headerValue(headers, name) {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function isFormData(value) {
  return value !== null && typeof value === 'object' && typeof value.getBoundary === 'function' && typeof value.append === 'function';
}

function formText(value) {
  const pairs = queryPairs(value, '', 'indices', []);
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function multipart(fields) {
  const boundary = 'n8n-harness-boundary';
  const parts = [];
  for (const key of Object.keys(fields)) {
    const values = Array.isArray(fields[key]) ? fields[key] : [fields[key]];
    for (let value of values) {
      let filename = '';
      let type = '';
      if (value && typeof value === 'object' && 'value' in value && 'options' in value) {
        filename = value.options && value.options.filename ? String(value.options.filename) : '';
        type = value.options && value.options.contentType ? String(value.options.contentType) : '';
        value = value.value;
      }
      const content = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'object' ? JSON.stringify(value) : String(value));
      const disposition = `form-data; name="${key}"${filename ? `; filename="${filename}"` : ''}`;
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`));
      parts.push(content, Buffer.from('\r\n'));
    }
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, content: Buffer.concat(parts) };
}

function formDataBody(form) {
  try {
    return { contentType: form.getHeaders()['content-type'], content: form.getBuffer() };
  } catch (error) {
    return { contentType: 'multipart/form-data', content: Buffer.from('(a multipart body holding a stream)') };
  }
}

// The body of a call: {kind: json|form|text|binary|none, value | base64} plus its content type.
function bodyOf(options, headers, style) {
  const contentType = headerValue(headers, 'content-type') || '';
  if (style === 'request') {
    if (options.formData !== undefined || contentType.includes('multipart/form-data')) {
      const fields = options.formData !== undefined ? options.formData : options.body;
      const built = isFormData(fields) ? formDataBody(fields) : multipart(fields || {});
      return { kind: 'binary', base64: built.content.toString('base64'), contentType: built.contentType };
    }
    if (options.form !== undefined && options.body === undefined) {
      const text = typeof options.form === 'string' ? options.form : formText(options.form);
      return { kind: 'form', value: text, contentType: 'application/x-www-form-urlencoded' };
    }
    if (contentType.includes('application/x-www-form-urlencoded') && options.body !== undefined) {
      const text = typeof options.body === 'string' ? options.body : formText({ ...options.body, ...(options.form || {}) });
      return { kind: 'form', value: text, contentType };
    }
  } else if (options.body !== undefined) {
    if (isFormData(options.body)) {
      const built = formDataBody(options.body);
      return { kind: 'binary', base64: built.content.toString('base64'), contentType: built.contentType };
    }
    if (options.body instanceof URLSearchParams) {
      return { kind: 'form', value: options.body.toString(), contentType: 'application/x-www-form-urlencoded' };
    }
    if (contentType.includes('application/x-www-form-urlencoded') && typeof options.body === 'object' && !Buffer.isBuffer(options.body)) {
      return { kind: 'form', value: formText(options.body), contentType };
    }
  }
  let body = options.body;
  if (style === 'request' && options.form !== undefined && body && typeof body === 'object') {
    body = Object.assign({}, body, options.form);
  }
  if (body === undefined || body === null || body === '') return { kind: 'none' };
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    return { kind: 'binary', base64: Buffer.from(body).toString('base64'), contentType: contentType || 'application/octet-stream' };
  }
  if (body instanceof Readable || (typeof body === 'object' && typeof body.pipe === 'function')) {
    return { kind: 'binary', base64: Buffer.from('(a streamed body)').toString('base64'), contentType: contentType || 'application/octet-stream' };
  }
  if (typeof body === 'string') return { kind: 'text', value: body, contentType };
  if (typeof body === 'object') {
    if (Object.keys(body).length === 0 && !Array.isArray(body)) return { kind: 'none' };
    return { kind: 'json', value: JSON.parse(JSON.stringify(body)), contentType: contentType || 'application/json' };
  }
  return { kind: 'text', value: String(body), contentType };
}

function absoluteUrl(options) {
  let url = options.uri !== undefined ? options.uri : options.url;
  if (url && typeof url === 'object' && typeof url.href === 'string') url = url.href;
  url = url === undefined || url === null ? '' : String(url);
  const base = options.baseURL !== undefined ? String(options.baseURL) : '';
  if (base && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    url = base.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
  }
  return url;
}

class Recorder {
  // `empty`: the indexes of calls answered with an empty stand-in (see worker.js: a node
  // that fails on a full answer is run again with that answer empty).
  constructor(empty = []) {
    this.calls = [];
    this.routes = new Map();
    this.lastCredential = null;
    this.empty = new Set(empty);
  }

  // One call: `style` is `request` (request-promise options) or `http` (httpRequest options).
  record(helper, credentialType, options, style) {
    if (!options || typeof options !== 'object') {
      options = { uri: String(options) };
    }
    if (this.calls.length >= MAX_CALLS) {
      throw new Bounded(`the node made more than ${MAX_CALLS} calls; the rest were not recorded`);
    }
    const method = String(options.method || 'GET').toUpperCase();
    const headers = headersOf(options.headers);
    let format = style === 'request' ? 'brackets' : options.arrayFormat || 'brackets';
    if (style === 'request') {
      const stringify = options.qsStringifyOptions;
      if (options.useQuerystring === true || (stringify && stringify.arrayFormat === 'repeat')) format = 'repeat';
      else if (options.useQuerystring === false) format = 'indices';
      else if (stringify && stringify.arrayFormat) format = stringify.arrayFormat;
    }
    const url = withQuery(absoluteUrl(options), options.qs, format);
    let body = bodyOf(options, headers, style);
    if (['GET', 'HEAD', 'OPTIONS'].includes(method) && body.kind === 'json' && Object.keys(body.value).length === 0) {
      body = { kind: 'none' };
    }
    const credential = credentialType || this.lastCredential;
    const token = TOKEN_ENDPOINTS.some((pattern) => pattern.test(url.split('?')[0]));
    const reads = new Map();
    this.calls.push({ helper, credential, method, url, headers, body, token, reads });
    const route = `${method} ${url.split('?')[0]}`;
    const count = (this.routes.get(route) || 0) + 1;
    this.routes.set(route, count);
    const empty = count > REPEATS_ANSWERED || this.empty.has(this.calls.length - 1);
    return this.answer(options, style, token, empty, route, reads);
  }

  // The calls as plain data, each with what node code read of its answer.
  finished() {
    return this.calls.map(({ reads, ...call }) => {
      const answer = call.token ? null : answered(reads);
      return answer === null ? call : { ...call, answer };
    });
  }

  answer(options, style, token, empty, route, reads) {
    let body;
    if (token) {
      body = { access_token: 'n8n-harness-token', token_type: 'Bearer', expires_in: 3600 };
    } else if (options.encoding === null || options.encoding === 'arraybuffer') {
      body = Buffer.from('n8n-harness placeholder content');
    } else if (options.useStream || options.encoding === 'stream') {
      body = Readable.from([Buffer.from('n8n-harness placeholder content')]);
    } else {
      const path = route.split(' ')[1].replace(/^https?:\/\/[^/]+/, '').split('/').filter(Boolean).slice(-1)[0] || 'response';
      body = standIn(`response.${path}`, 0, empty, reads);
    }
    const full = style === 'request' ? options.resolveWithFullResponse : options.returnFullResponse;
    if (full) return { body, headers: {}, statusCode: 200, statusMessage: 'OK' };
    return body;
  }
}

module.exports = { Recorder, Bounded, standIn, answered, placeholderText, MAX_CALLS };
