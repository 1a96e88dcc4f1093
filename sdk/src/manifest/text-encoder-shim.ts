// TypeBox (which plugins bundle for `Type`) creates a `TextEncoder` when its hashing module
// loads. `TextEncoder` is a Web API, not ECMAScript, so an empty sandbox global lacks it and
// the bundle would fail at load. This banner supplies a small UTF-8 encoder only when the
// global has none; it is plain ECMAScript and deterministic, so bundles stay reproducible.

/**
 * Script text that defines `TextEncoder` (UTF-8, WHATWG-compatible `encode`) when the global
 * has none. {@link PLUGIN_BUNDLE_OPTIONS} puts it in front of every plugin bundle.
 *
 * @example
 * ```ts
 * import vm from 'node:vm'
 * import { TEXT_ENCODER_SHIM } from '@stavily/sdk/manifest'
 * vm.runInContext(TEXT_ENCODER_SHIM, vm.createContext({}))
 * ```
 */
export const TEXT_ENCODER_SHIM = `var TextEncoder = typeof TextEncoder === "function" ? TextEncoder : class TextEncoder {
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
};`
