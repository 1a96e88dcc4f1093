// TypeBox (which plugins bundle for `Type`) creates a `TextEncoder` when its hashing module
// loads. `TextEncoder` is a Web API, not ECMAScript, so an empty sandbox global lacks it and
// the bundle would fail at load. The bundle therefore opens a block that binds a small UTF-8
// encoder (the global one when there is one) and closes it after the plugin's code: the
// plugin's code sees `TextEncoder`, the sandbox's global gains nothing but `__stavilyPlugin`
// (a `var`, which stays global inside a block). Plain ECMAScript, deterministic.

/**
 * The UTF-8 `TextEncoder` class as script text: the one implementation, used by
 * {@link TEXT_ENCODER_SHIM} in every plugin bundle and by the agent's sandbox, which makes it
 * the isolate's global `TextEncoder`.
 *
 * @example
 * ```ts
 * const script = `globalThis.TextEncoder = ${TEXT_ENCODER_CLASS}`
 * ```
 */
export const TEXT_ENCODER_CLASS = `class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input = "") {
    const text = String(input);
    const out = [];
    for (let i = 0; i < text.length; i++) {
      let code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) { code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00); i++; }
        else code = 0xfffd;
      } else if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
      if (code < 0x80) out.push(code);
      else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
      else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
      else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    }
    return new Uint8Array(out);
  }
}`

/**
 * Script text opening the block that binds `TextEncoder` (UTF-8, WHATWG-compatible
 * `encode`); {@link PLUGIN_BUNDLE_OPTIONS} puts it before every plugin bundle, and
 * {@link TEXT_ENCODER_SHIM_END} after it.
 *
 * @example
 * ```ts
 * import vm from 'node:vm'
 * import { TEXT_ENCODER_SHIM, TEXT_ENCODER_SHIM_END } from '@stavily/sdk/manifest'
 * vm.runInNewContext(`${TEXT_ENCODER_SHIM}\nvar bytes = new TextEncoder().encode('é');\n${TEXT_ENCODER_SHIM_END}`)
 * ```
 */
export const TEXT_ENCODER_SHIM = `{ const TextEncoder = typeof globalThis.TextEncoder === "function" ? globalThis.TextEncoder : ${TEXT_ENCODER_CLASS};`

/**
 * Script text closing the block {@link TEXT_ENCODER_SHIM} opens.
 *
 * @example
 * ```ts
 * const script = `${TEXT_ENCODER_SHIM}\n${pluginCode}\n${TEXT_ENCODER_SHIM_END}`
 * ```
 */
export const TEXT_ENCODER_SHIM_END = '}'
