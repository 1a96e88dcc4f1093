import { TEXT_ENCODER_CLASS, TEXT_ENCODER_SHIM } from '@stavily/sdk/manifest'
import { describe, expect, it } from 'vitest'
import { TEXT_CODEC_SHIM_SOURCE } from './text-codec-shim.ts'

describe('the TextEncoder shim', () => {
  it('is one implementation: the sandbox global and every plugin bundle use the SDK class', () => {
    expect(TEXT_CODEC_SHIM_SOURCE).toContain(TEXT_ENCODER_CLASS)
    expect(TEXT_ENCODER_SHIM).toContain(TEXT_ENCODER_CLASS)
    expect(TEXT_CODEC_SHIM_SOURCE.match(/class TextEncoder/g)).toHaveLength(1)
  })
})
