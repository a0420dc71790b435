'use strict';
// The `this` that node code runs with: what n8n's engine gives an executing node
// (parameters, credentials, input items, helpers), written for the sandbox. The request
// helpers record (recorder.js); file, process and database helpers are refused; helpers
// this file does not know fail with their name, so a node that needs one is reported.

const { Readable } = require('stream');
const { NotRunnable } = require('./nodes');

const PLACEHOLDER_CONTENT = Buffer.from('n8n-harness placeholder content');

function binaryData(name) {
  return {
    data: PLACEHOLDER_CONTENT.toString('base64'),
    mimeType: 'application/octet-stream',
    fileName: `${name || 'data'}.bin`,
    fileExtension: 'bin',
    fileSize: String(PLACEHOLDER_CONTENT.length),
  };
}

function inputItems() {
  const binary = new Proxy({}, {
    get: (target, key) => (typeof key === 'string' ? binaryData(key) : undefined),
    has: (target, key) => typeof key === 'string',
    ownKeys: () => ['data'],
    getOwnPropertyDescriptor: (target, key) => (key === 'data' ? { value: binaryData('data'), enumerable: true, configurable: true } : undefined),
  });
  return [{ json: {}, binary, pairedItem: { item: 0 } }];
}

function refusedHelper(name) {
  return () => {
    throw new NotRunnable(`it needs the helper ${name}, which the sandbox does not provide (files, processes, databases)`);
  };
}

function createContext({ node, workflow, parameters, credentials, recorder, restore, load }) {
  const items = inputItems();
  const logger = { debug() {}, info() {}, warn() {}, error() {}, verbose() {} };
  const nodeCredentials = node.credentials || {};

  function credentialTypeAllowed(type) {
    return Object.prototype.hasOwnProperty.call(nodeCredentials, type) || node.type === 'n8n-nodes-base.httpRequest';
  }

  async function getCredentials(type) {
    if (!credentials.known(type)) {
      throw new NotRunnable(`it asks for credential type ${type}, which the pinned n8n-nodes-base does not define`);
    }
    if (!credentialTypeAllowed(type)) {
      const error = new Error(`Node does not have any credentials set for "${type}"`);
      error.name = 'NodeOperationError';
      throw error;
    }
    recorder.lastCredential = type;
    return credentials.data(type, restore);
  }

  const record = (helper, style) =>
    async function recordCall(first, second, third) {
      // request(uriOrOptions, options) | requestOAuth2(type, options) | ...WithAuthentication(type, options)
      if (helper === 'request' || helper === 'httpRequest') {
        const options = typeof first === 'string' ? { uri: first, ...(second || {}) } : first;
        return recorder.record(helper, null, options, style);
      }
      if (typeof first === 'string' && credentials.known(first)) recorder.lastCredential = first;
      return recorder.record(helper, first, second, helper === 'httpRequestWithAuthentication' ? 'http' : style);
      void third;
    };

  const requestHelpers = {
    request: record('request', 'request'),
    requestOAuth1: record('requestOAuth1', 'request'),
    requestOAuth2: async function requestOAuth2(type, options, oauth2Options, isN8nRequest) {
      recorder.lastCredential = type;
      return recorder.record('requestOAuth2', type, options, isN8nRequest ? 'http' : 'request');
    },
    requestWithAuthentication: record('requestWithAuthentication', 'request'),
    httpRequest: record('httpRequest', 'http'),
    httpRequestWithAuthentication: record('httpRequestWithAuthentication', 'http'),
    requestWithAuthenticationPaginated: async function paginated(requestOptions, itemIndex, paginationOptions, credentialsType) {
      const response = await recorder.record('requestWithAuthenticationPaginated', credentialsType || null, requestOptions, 'request');
      void itemIndex;
      void paginationOptions;
      return [response];
    },
  };

  const known = {
    ...requestHelpers,
    returnJsonArray(data) {
      const list = Array.isArray(data) ? data : [data];
      return list.map((json) => ({ json }));
    },
    constructExecutionMetaData(inputData, options) {
      return inputData.map((item) => ({ ...item, pairedItem: options && options.itemData }));
    },
    normalizeItems(data) {
      const list = Array.isArray(data) ? data : [data];
      return list.map((item) => (item && item.json ? item : { json: item }));
    },
    copyInputItems(list, properties) {
      return list.map((item) => {
        const copy = {};
        for (const key of properties) if (item.json && key in item.json) copy[key] = item.json[key];
        return copy;
      });
    },
    async prepareBinaryData(buffer, fileName, mimeType) {
      return { ...binaryData('data'), fileName: fileName || 'data.bin', mimeType: mimeType || 'application/octet-stream' };
    },
    async setBinaryDataBuffer(data) {
      return data;
    },
    assertBinaryData(itemIndex, propertyName) {
      return binaryData(typeof propertyName === 'string' ? propertyName : 'data');
    },
    async getBinaryDataBuffer() {
      return Buffer.from(PLACEHOLDER_CONTENT);
    },
    async binaryToBuffer() {
      return Buffer.from(PLACEHOLDER_CONTENT);
    },
    async binaryToString() {
      return PLACEHOLDER_CONTENT.toString();
    },
    async getBinaryStream() {
      return Readable.from([Buffer.from(PLACEHOLDER_CONTENT)]);
    },
    async getBinaryMetadata() {
      return { fileName: 'data.bin', mimeType: 'application/octet-stream', fileSize: PLACEHOLDER_CONTENT.length };
    },
    detectBinaryEncoding() {
      return 'utf-8';
    },
    createDeferredPromise() {
      let resolve;
      let reject;
      const promise = new Promise((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      return { promise, resolve, reject };
    },
    async checkProcessedAndRecord(list) {
      return { new: list, processed: [] };
    },
    async getProcessedDataCount() {
      return 0;
    },
    async clearAllProcessedItems() {},
    getSSHClient: refusedHelper('getSSHClient'),
    createReadStream: refusedHelper('createReadStream'),
    writeContentToFile: refusedHelper('writeContentToFile'),
    resolvePath: refusedHelper('resolvePath'),
    isFilePathBlocked: () => true,
    getDataTableProxy: refusedHelper('getDataTableProxy'),
    registerCron: refusedHelper('registerCron'),
  };

  const helpers = new Proxy(known, {
    get(target, key) {
      if (typeof key !== 'string' || key in target) return target[key];
      return refusedHelper(key);
    },
  });

  const staticData = { global: {}, node: {} };
  const context = {
    helpers,
    logger,
    getNodeParameter(name, itemIndex, fallbackValue, options) {
      if (typeof itemIndex !== 'number') {
        // the (name, fallbackValue, options) form of hooks and load-options contexts
        options = fallbackValue;
        fallbackValue = itemIndex;
      }
      return parameters.value(name, fallbackValue, options);
    },
    getCurrentNodeParameter(name) {
      try {
        return parameters.value(name, undefined, {});
      } catch (error) {
        return undefined;
      }
    },
    getCurrentNodeParameters() {
      return parameters.values;
    },
    getNode() {
      return JSON.parse(JSON.stringify(node));
    },
    getWorkflow() {
      return { id: workflow.id, name: workflow.name, active: false };
    },
    getInputData() {
      return items;
    },
    getInputSourceData() {
      return { previousNode: 'input' };
    },
    getCredentials,
    continueOnFail() {
      return false;
    },
    getMode() {
      return 'manual';
    },
    getActivationMode() {
      return 'activate';
    },
    getPollBudgetMs() {
      return 60_000;
    },
    getTimezone() {
      return 'UTC';
    },
    getExecutionId() {
      return 'n8n-harness-execution';
    },
    getInstanceId() {
      return 'n8n-harness-instance';
    },
    getInstanceBaseUrl() {
      return 'https://n8n.invalid/';
    },
    getRestApiUrl() {
      return 'https://n8n.invalid/rest';
    },
    getNodeWebhookUrl() {
      return 'https://n8n.invalid/webhook/n8n-harness';
    },
    getWebhookName() {
      return 'default';
    },
    getWorkflowStaticData(type) {
      return type === 'global' ? staticData.global : staticData.node;
    },
    getWorkflowSettings() {
      return {};
    },
    getContext() {
      return {};
    },
    getExecuteData() {
      return { node, data: { main: [items] }, source: null };
    },
    getChildNodes() {
      return [];
    },
    getParentNodes() {
      return [];
    },
    getKnownNodeTypes() {
      return {};
    },
    getNodeInputs() {
      return [{ type: 'main' }];
    },
    getNodeOutputs() {
      return [{ type: 'main' }];
    },
    getExecutionCancelSignal() {
      return undefined;
    },
    onExecutionCancellation() {},
    evaluateExpression(expression) {
      return parameters.resolve(`=${expression}`, 'expression', 0);
    },
    getWorkflowDataProxy() {
      return { $json: {}, $input: { all: () => items, first: () => items[0] }, $node: {}, $workflow: context.getWorkflow() };
    },
    sendMessageToUI() {},
    sendResponse() {},
    sendChunk() {},
    addExecutionHints() {},
    async putExecutionToWait() {},
    isToolExecution() {
      return false;
    },
    isStreaming() {
      return false;
    },
    isConsoleOutputRedacted() {
      return true;
    },
    async getInputConnectionData() {
      throw new NotRunnable('it takes its input from AI sub-nodes, which the import does not run');
    },
    getSignedResumeUrl() {
      return 'https://n8n.invalid/resume';
    },
    async emit() {},
    emitError() {},
    async getCredentialsProperties() {
      return [];
    },
  };
  void load;
  return context;
}

module.exports = { createContext };
