// The script that runs first in every plugin context, before the plugin's bundle. It
// captures the two host callbacks (then removes them from the global), removes globals that
// would escape the isolate's limits, and defines the runtime the host drives through
// References it takes right after: `start` a call, `settle` a pending capability,
// `describe` the plugin. Everything it hands the host is a JSON string or a number, so no
// plugin object, getter, Proxy, thenable or toJSON ever runs on the host: they run here,
// inside the isolate, under the call's CPU limit.
//
// It is plain ES2022 kept as a string: it is compiled by V8 inside the isolate, not by us.

export const HOST_CALL_GLOBAL = '__stavilyHostCall'
export const HOST_DONE_GLOBAL = '__stavilyHostDone'
export const RUNTIME_GLOBAL = '__stavilyRuntime'
export const BUNDLE_GLOBAL = '__stavilyPlugin'

/** Status the isolate reports with a finished call (second argument of the done callback). */
export const DoneStatus = { OK: 0, ERROR: 1, TOO_LARGE: 2 } as const

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
  // TextEncoder/TextDecoder (UTF-8 only) are not ECMAScript, but libraries bundled into
  // plugins (TypeBox among them) expect them at load; plain JS, so nothing of the host leaks.
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') {
      const s = String(input);
      const out = [];
      for (let i = 0; i < s.length; i++) {
        let c = s.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
          const d = s.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; } else c = 0xfffd;
        } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) out.push(c);
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(out);
    }
  }
  class TextDecoder {
    get encoding() { return 'utf-8'; }
    decode(input) {
      if (input === undefined) return '';
      const b = input instanceof Uint8Array ? input : ArrayBuffer.isView(input)
        ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : new Uint8Array(input);
      let out = '';
      for (let i = 0; i < b.length;) {
        const x = b[i];
        let c = 0xfffd, n = 1;
        if (x < 0x80) c = x;
        else if (x >= 0xc2 && x < 0xe0 && (b[i + 1] & 0xc0) === 0x80) { c = ((x & 31) << 6) | (b[i + 1] & 63); n = 2; }
        else if (x >= 0xe0 && x < 0xf0 && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
          c = ((x & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63); n = 3;
          if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
        } else if (x >= 0xf0 && x < 0xf5 && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
          c = ((x & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63); n = 4;
          if (c < 0x10000 || c > 0x10ffff) c = 0xfffd;
        }
        out += String.fromCodePoint(c);
        i += n;
      }
      return out;
    }
  }
  Object.defineProperty(globalThis, 'TextEncoder', { value: TextEncoder, writable: true, configurable: true });
  Object.defineProperty(globalThis, 'TextDecoder', { value: TextDecoder, writable: true, configurable: true });
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const P = Promise;
  const pending = new Map();
  let definition;
  let outputLimit = 0;

  function makeError(e) {
    const err = new Error(String(e.message));
    err.name = 'PluginError';
    err.code = e.code;
    err.retryable = e.retryable === true;
    if (e.data !== undefined) err.data = e.data;
    return err;
  }
  // One synchronous host call. The host answers {v} (a value now), {e} (an error now) or
  // {p} (a pending operation it settles later through settle()).
  function call(callId, cap, args) {
    const r = parse(hostCall(callId, cap, stringify(args)));
    if (r.e !== undefined) throw makeError(r.e);
    if (r.p !== undefined) return new P((resolve, reject) => pending.set(r.p, { resolve, reject, callId }));
    return r.v;
  }
  function callAsync(callId, cap, args) {
    try { return P.resolve(call(callId, cap, args)); } catch (e) { return P.reject(e); }
  }
  function makeResponse(r) {
    const body = r.body;
    return Object.freeze({
      status: r.status, ok: r.status >= 200 && r.status < 300, url: r.url,
      headers: Object.freeze(r.headers), body, json: () => parse(body),
    });
  }
  function makeCtx(callId, m) {
    const log = (level) => (message, fields) => { call(callId, 'log', [level, String(message), fields === undefined ? null : fields]); };
    const ctx = {
      config: m.config,
      invocationId: m.invocationId,
      idempotencyKey: m.idempotencyKey,
      deadline: m.deadline,
      log: Object.freeze({ debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }),
      fetch: (url, init) => callAsync(callId, 'fetch', [String(url), init === undefined ? null : init]).then(makeResponse),
      secrets: Object.freeze({ get: (name) => callAsync(callId, 'secrets.get', [name]) }),
      state: Object.freeze({
        get: (key) => callAsync(callId, 'state.get', [key]),
        set: (key, value) => callAsync(callId, 'state.set', [key, value === undefined ? null : value]),
        delete: (key) => callAsync(callId, 'state.delete', [key]),
      }),
      fs: Object.freeze(definition.kind === 'sensor'
        ? { readText: (p) => callAsync(callId, 'fs.readText', [p]), list: (p) => callAsync(callId, 'fs.list', [p]) }
        : {
            readText: (p) => callAsync(callId, 'fs.readText', [p]),
            list: (p) => callAsync(callId, 'fs.list', [p]),
            writeText: (p, text) => callAsync(callId, 'fs.writeText', [p, text]),
          }),
    };
    if (definition.kind === 'sensor') {
      ctx.emit = (event) => callAsync(callId, 'emit', [event]);
      ctx.sleep = (ms) => callAsync(callId, 'sleep', [ms]);
      ctx.isStopping = () => call(callId, 'isStopping', []) === true;
    }
    if (definition.kind === 'action') {
      ctx.exec = (command, args, options) => callAsync(callId, 'exec', [command, args === undefined ? [] : args, options === undefined ? null : options]);
    }
    return Object.freeze(ctx);
  }
  function serializeError(e) {
    try {
      if (e !== null && typeof e === 'object') {
        const out = {
          name: String(e.name), message: String(e.message),
          code: typeof e.code === 'string' ? e.code : undefined,
          retryable: e.retryable === true, data: e.data,
        };
        try { return stringify(out); } catch { out.data = undefined; return stringify(out); }
      }
      return stringify({ name: 'Error', message: String(e) });
    } catch {
      return '{"name":"Error","message":"the plugin threw a value that cannot be described"}';
    }
  }
  // The outcome of a call as [status, json]; finish() reports it through the done callback.
  function outcome(ok, value) {
    let json = '';
    if (ok) {
      try {
        // JSON.stringify runs toJSON, getters and Proxy traps here, in the isolate.
        const s = value === undefined ? undefined : stringify(value);
        json = s === undefined ? '' : s;
      } catch (e) { ok = false; value = e; }
    }
    if (!ok) return [${DoneStatus.ERROR}, serializeError(value)];
    if (json.length > outputLimit) return [${DoneStatus.TOO_LARGE}, String(json.length)];
    return [${DoneStatus.OK}, json];
  }
  function finish(callId, ok, value) {
    const [status, json] = outcome(ok, value);
    hostDone(callId, status, json);
  }
  const OPERATIONS = ['run', 'send', 'check', 'watch'];
  globalThis.${RUNTIME_GLOBAL} = {
    capture(limit) {
      outputLimit = limit;
      const mod = globalThis.${BUNDLE_GLOBAL};
      try { delete globalThis.${BUNDLE_GLOBAL}; } catch {}
      const def = mod !== null && typeof mod === 'object' && mod.default !== undefined ? mod.default : mod;
      if (def === null || typeof def !== 'object') return stringify({ error: 'the bundle did not define globalThis.${BUNDLE_GLOBAL} with a default export' });
      definition = def;
      const operations = OPERATIONS.filter((op) => typeof def[op] === 'function');
      return stringify({ kind: def.kind, sdkApiVersion: def.sdkApiVersion, schemas: def.schemas === undefined ? {} : def.schemas, operations });
    },
    start(callId, op, payload) {
      let result;
      try {
        const m = parse(payload);
        const ctx = makeCtx(callId, m);
        const fn = definition[op];
        result = op === 'check' || op === 'watch' ? fn.call(definition, ctx) : fn.call(definition, ctx, m.input);
      } catch (e) { const [status, json] = outcome(false, e); return status + json; }
      // A handler that returned a plain value (not a thenable) is answered in the same slice,
      // as the return value of start: no promise, no callback. Reading .then may run a
      // getter: it runs here, under the CPU limit, like everything the plugin returns.
      let thenable;
      try { thenable = result !== null && (typeof result === 'object' || typeof result === 'function') && typeof result.then === 'function'; }
      catch (e) { const [status, json] = outcome(false, e); return status + json; }
      if (!thenable) { const [status, json] = outcome(true, result); return status + json; }
      P.resolve(result).then((v) => finish(callId, true, v), (e) => finish(callId, false, e));
      return undefined;
    },
    settle(opId, ok, json) {
      const p = pending.get(opId);
      if (p === undefined) return;
      pending.delete(opId);
      if (!ok) { p.reject(makeError(parse(json))); return; }
      p.resolve(json === '' ? undefined : parse(json));
    },
    // A call the host ended early (wall time): its pending capabilities will never settle.
    forget(callId) {
      for (const [opId, p] of pending) if (p.callId === callId) pending.delete(opId);
    },
  };
})();
`
