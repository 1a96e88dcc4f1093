import { TEXT_ENCODER_CLASS } from '@stavily/sdk/manifest'

// TextEncoder and TextDecoder (UTF-8 only) for plugins: they are not ECMAScript, but
// libraries bundled into plugins (TypeBox among them) expect them at load. Plain JS that the
// bootstrap evaluates inside the isolate, so nothing of the host leaks in. The encoder is the
// SDK's one implementation (the same class every plugin bundle carries for running outside
// a sandbox), so there is one TextEncoder shim, not two.
//
// A string: it is compiled by V8 inside the isolate, not by us.
export const TEXT_CODEC_SHIM_SOURCE = `
  const TextEncoder = ${TEXT_ENCODER_CLASS};
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
`
