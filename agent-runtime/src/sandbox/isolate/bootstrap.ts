// The script that runs first in every plugin context, before the plugin's bundle. It
// captures the two host callbacks (then removes them from the global), removes globals that
// would escape the isolate's limits, and defines the runtime the host drives through
// References it takes right after: `start` a call, `settle` a pending capability,
// `describe` the plugin. Everything it hands the host is a string or a number, so no plugin
// object, getter, Proxy, thenable or toJSON ever runs on the host: they run here, inside the
// isolate, under the call's CPU limit.
//
// The plugin shares this realm and may replace anything in it: a prototype's methods, its
// iterator, toJSON, getters and setters on Object.prototype, JSON, String, Promise.then.
// So the bootstrap captures every intrinsic it uses while it runs (before any plugin code)
// and at call time reads no property a plugin can reach: no array destructuring, spread or
// for-of (iterators), no method looked up on a prototype (captured functions through
// Reflect.apply), its own records without a prototype, property descriptors without one,
// and the reports to the host built as strings. What the plugin returns or throws is its
// own to shape (its toJSON and getters run), but never how the bootstrap reports it.
//
// It is plain ES2022 kept as a string: it is compiled by V8 inside the isolate, not by us.
import { TEXT_CODEC_SHIM_SOURCE } from './text-codec-shim.ts'

export const HOST_CALL_GLOBAL = '__stavilyHostCall'
export const HOST_DONE_GLOBAL = '__stavilyHostDone'
export const RUNTIME_GLOBAL = '__stavilyRuntime'
export const BUNDLE_GLOBAL = '__stavilyPlugin'

/**
 * A call's outcome as the isolate reports it: one string, its first character the status
 * (a digit), the rest the JSON of the output or error, or the output's length (TOO_LARGE).
 */
export const DoneStatus = { OK: 0, ERROR: 1, TOO_LARGE: 2 } as const

/**
 * What the host answers a capability call with: one string, its first character saying what
 * the rest is (a value now as JSON, an error now as JSON, a pending operation's id, nothing).
 */
export const HostReply = { VALUE: 'v', ERROR: 'e', PENDING: 'p', NOTHING: 'u' } as const

export const BOOTSTRAP_SOURCE = `'use strict';
(() => {
  const hostCall = globalThis.${HOST_CALL_GLOBAL};
  const hostDone = globalThis.${HOST_DONE_GLOBAL};
  delete globalThis.${HOST_CALL_GLOBAL};
  delete globalThis.${HOST_DONE_GLOBAL};
  // WebAssembly memory is not counted against the isolate's heap limit; SharedArrayBuffer and
  // Atomics.wait could block the host thread beyond the CPU limit. Plugins get neither.
  delete globalThis.WebAssembly;
  delete globalThis.SharedArrayBuffer;
  delete globalThis.Atomics;
${TEXT_CODEC_SHIM_SOURCE}
  // Intrinsics, captured before any plugin code runs (see the header of bootstrap.ts).
  const apply = Reflect.apply;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const toString = String;
  const freeze = Object.freeze;
  const defineProperty = Object.defineProperty;
  const hasOwn = Object.prototype.hasOwnProperty;
  const sliceString = String.prototype.slice;
  const ErrorCtor = Error;
  const P = Promise;
  const FALLBACK_ERROR = '{"name":"Error","message":"the plugin threw a value that cannot be described"}';
  /** Pending capability operations by id; no prototype, so no inherited key is ever read. */
  const pending = { __proto__: null };
  let definition;
  let outputLimit = 0;

  const own = (o, key) => (apply(hasOwn, o, [key]) ? o[key] : undefined);
  const data = (value) => ({ __proto__: null, value, writable: true, enumerable: true, configurable: true });
  const jsonOrNull = (v) => { const s = stringify(v); return typeof s === 'string' ? s : 'null'; };
  // A list of arguments as JSON, item by item: JSON.stringify of the list itself would
  // consult Array.prototype.toJSON.
  function listJson(list) {
    let json = '[';
    for (let i = 0; i < list.length; i++) json += (i === 0 ? '' : ',') + jsonOrNull(list[i]);
    return json + ']';
  }

  function makeError(e) {
    const err = new ErrorCtor(toString(own(e, 'message')));
    defineProperty(err, 'name', data('PluginError'));
    defineProperty(err, 'code', data(own(e, 'code')));
    defineProperty(err, 'retryable', data(own(e, 'retryable') === true));
    const d = own(e, 'data');
    if (d !== undefined) defineProperty(err, 'data', data(d));
    return err;
  }
  // One host call. The answer is a string whose first character says what follows: a value
  // now, an error now, or the id of a pending operation the host settles later (settle()).
  function call(callId, cap, args, async) {
    const r = hostCall(callId, cap, listJson(args));
    const kind = r[0];
    const rest = apply(sliceString, r, [1]);
    if (kind === '${HostReply.ERROR}') throw makeError(parse(rest));
    // Its own promise, returned as it is: resolving one promise with another would look up
    // .then, which the plugin may have replaced.
    if (kind === '${HostReply.PENDING}') {
      return new P((resolve, reject) => { pending[rest] = { __proto__: null, resolve, reject, callId }; });
    }
    const value = kind === '${HostReply.VALUE}' ? parse(rest) : undefined;
    return async ? new P((resolve) => resolve(value)) : value;
  }
  function callAsync(callId, cap, args) {
    try { return call(callId, cap, args, true); } catch (e) { return new P((resolve, reject) => reject(e)); }
  }
  function makeResponse(r) {
    const body = own(r, 'body');
    const status = own(r, 'status');
    return freeze({
      status, ok: status >= 200 && status < 300, url: own(r, 'url'),
      headers: freeze(own(r, 'headers')), body, json: () => parse(body),
    });
  }
  function makeCtx(callId, m) {
    const log = (level) => (message, fields) => { call(callId, 'log', [level, toString(message), fields === undefined ? null : fields], false); };
    const config = own(m, 'config');
    const invocationId = own(m, 'invocationId');
    const idempotencyKey = own(m, 'idempotencyKey');
    const deadline = own(m, 'deadline');
    const logger = freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') });
    const fetch = async (url, init) => makeResponse(await callAsync(callId, 'fetch', [toString(url), init === undefined ? null : init]));
    const secrets = freeze({ get: (name) => callAsync(callId, 'secrets.get', [name]) });
    const state = freeze({
      get: (key) => callAsync(callId, 'state.get', [key]),
      set: (key, value) => callAsync(callId, 'state.set', [key, value === undefined ? null : value]),
      delete: (key) => callAsync(callId, 'state.delete', [key]),
    });
    const readText = (p) => callAsync(callId, 'fs.readText', [p]);
    const list = (p) => callAsync(callId, 'fs.list', [p]);
    // A stream (sql.listen, fs.watch) is a host-side id; next() and close() go by it.
    const stream = (id) => freeze({
      next: (options) => callAsync(callId, 'stream.next', [id, options === undefined ? null : options]),
      close: () => callAsync(callId, 'stream.close', [id]),
    });
    const query = (connection, text, params, options) => callAsync(callId, 'sql.query', [connection, text, params === undefined ? null : params, options === undefined ? null : options]);
    const smtp = freeze({ send: (relay, message) => callAsync(callId, 'smtp.send', [relay, message]) });
    // One complete literal per kind: properties added afterwards would turn ctx into a slow
    // dictionary object (microseconds on every call), and assignment would meet setters.
    if (definition.kind === 'sensor') {
      return freeze({
        config, invocationId, idempotencyKey, deadline, log: logger, fetch, secrets, state,
        fs: freeze({ readText, list, watch: async (p, options) => stream(await callAsync(callId, 'fs.watch', [p, options === undefined ? null : options])) }),
        sql: freeze({ query, listen: async (connection, channel) => stream(await callAsync(callId, 'sql.listen', [connection, channel])) }),
        emit: (event) => callAsync(callId, 'emit', [event]),
        sleep: (ms) => callAsync(callId, 'sleep', [ms]),
        isStopping: () => call(callId, 'isStopping', [], false) === true,
        exec: (command, args, options) => callAsync(callId, 'exec', [command, args === undefined ? [] : args, options === undefined ? null : options]),
      });
    }
    const fs = freeze({ readText, list, writeText: (p, text) => callAsync(callId, 'fs.writeText', [p, text]) });
    if (definition.kind === 'action') {
      return freeze({
        config, invocationId, idempotencyKey, deadline, log: logger, fetch, secrets, state, fs,
        sql: freeze({ query }), smtp,
        exec: (command, args, options) => callAsync(callId, 'exec', [command, args === undefined ? [] : args, options === undefined ? null : options]),
      });
    }
    return freeze({ config, invocationId, idempotencyKey, deadline, log: logger, fetch, secrets, state, fs, sql: freeze({ query }), smtp });
  }
  // A thrown value as JSON, written out field by field: only its own fields' values go
  // through JSON.stringify (strings, and data, which is the plugin's to shape).
  function errorJson(e) {
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
        const code = e.code;
        let json = '{"name":' + stringify(toString(e.name)) + ',"message":' + stringify(toString(e.message)) +
          ',"retryable":' + (e.retryable === true ? 'true' : 'false');
        if (typeof code === 'string') json += ',"code":' + stringify(code);
        const d = e.data;
        if (d !== undefined) {
          let s;
          try { s = stringify(d); } catch { s = undefined; }
          if (typeof s === 'string') json += ',"data":' + s;
        }
        return json + '}';
      }
      return '{"name":"Error","message":' + stringify(toString(e)) + '}';
    } catch {
      return FALLBACK_ERROR;
    }
  }
  // The outcome of a call as one string: its status digit, then the JSON (or the length).
  function outcome(ok, value) {
    if (!ok) return '${DoneStatus.ERROR}' + errorJson(value);
    let json;
    try {
      // JSON.stringify runs toJSON, getters and Proxy traps here, in the isolate.
      json = value === undefined ? '' : stringify(value);
    } catch (e) {
      return '${DoneStatus.ERROR}' + errorJson(e);
    }
    if (typeof json !== 'string') json = '';
    if (json.length > outputLimit) return '${DoneStatus.TOO_LARGE}' + json.length;
    return '${DoneStatus.OK}' + json;
  }
  // await, not .then: it takes the value without looking up Promise.prototype.then or a
  // species constructor on our side; a thenable the plugin returned is its own to resolve.
  async function settleLater(callId, result) {
    let report;
    try {
      report = outcome(true, await result);
    } catch (e) {
      report = outcome(false, e);
    }
    hostDone(callId, report);
  }
  const OPERATIONS = ['run', 'send', 'check', 'watch'];
  globalThis.${RUNTIME_GLOBAL} = {
    capture(limit) {
      outputLimit = limit;
      const mod = globalThis.${BUNDLE_GLOBAL};
      try { delete globalThis.${BUNDLE_GLOBAL}; } catch {}
      try {
        const def = mod !== null && typeof mod === 'object' && mod.default !== undefined ? mod.default : mod;
        if (def === null || typeof def !== 'object') return '{"error":"the bundle did not define globalThis.${BUNDLE_GLOBAL} with a default export"}';
        definition = def;
        let operations = '';
        for (let i = 0; i < OPERATIONS.length; i++) {
          const op = OPERATIONS[i];
          if (typeof def[op] === 'function') operations += (operations === '' ? '"' : ',"') + op + '"';
        }
        const schemas = def.schemas;
        return '{"kind":' + jsonOrNull(def.kind) + ',"sdkApiVersion":' + jsonOrNull(def.sdkApiVersion) +
          ',"schemas":' + (schemas === undefined ? '{}' : jsonOrNull(schemas)) + ',"operations":[' + operations + ']}';
      } catch (e) {
        return '{"error":' + stringify('the plugin definition could not be read: ' + toString(e && e.message)) + '}';
      }
    },
    start(callId, op, payload) {
      let result;
      try {
        const m = parse(payload);
        const ctx = makeCtx(callId, m);
        const fn = definition[op];
        result = op === 'check' || op === 'watch' ? apply(fn, definition, [ctx]) : apply(fn, definition, [ctx, own(m, 'input')]);
      } catch (e) { return outcome(false, e); }
      // A handler that returned a plain value (not a thenable) is answered in the same slice,
      // as the return value of start: no promise, no callback. Reading .then may run a
      // getter: it runs here, under the CPU limit, like everything the plugin returns.
      let thenable;
      try { thenable = result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function'; }
      catch (e) { return outcome(false, e); }
      if (!thenable) return outcome(true, result);
      settleLater(callId, result);
      return undefined;
    },
    settle(opId, ok, json) {
      const p = pending[opId];
      if (p === undefined) return;
      delete pending[opId];
      if (!ok) { p.reject(makeError(parse(json))); return; }
      p.resolve(json === '' ? undefined : parse(json));
    },
    // A call the host ended early (wall time): its pending capabilities will never settle.
    forget(callId) {
      for (const opId in pending) if (pending[opId].callId === callId) delete pending[opId];
    },
  };
})();
`
