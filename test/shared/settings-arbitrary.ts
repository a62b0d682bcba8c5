/** fast-check generators of valid pipeline settings, built from the schema (so a new setting is covered at once). */
import fc from 'fast-check'
import { SETTINGS_SCHEMA, type PipelineSettings, type SettingSpec } from '../../src/shared/config'

function valueArbitrary(spec: SettingSpec): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'boolean':
      return fc.boolean()
    case 'enum':
      return fc.constantFrom(...spec.values)
    case 'integer':
      return spec.values !== undefined ? fc.constantFrom(...spec.values) : fc.integer({ min: spec.min, max: spec.max })
    case 'number':
      // Any double in range, subnormals included; -0 is read as 0, so it is left out.
      return fc.double({ min: spec.min, max: spec.max, noNaN: true }).map((v) => (Object.is(v, -0) ? 0 : v))
  }
}

/** Settings with every field in its own range and jitter min ≤ target ≤ max. */
export const validSettings: fc.Arbitrary<PipelineSettings> = fc
  .record(Object.fromEntries(SETTINGS_SCHEMA.map((spec) => [spec.key, valueArbitrary(spec)])))
  .chain((fields) => {
    // min ∈ 0–500 and max ∈ 20–1000, ordered: the smaller stays ≤ 500 and the larger ≥ 20, so both stay in range.
    const a = fields.jitterBufferMinMs as number
    const b = fields.jitterBufferMaxMs as number
    const min = Math.min(a, b)
    const max = Math.max(a, b)
    return fc.integer({ min, max }).map(
      (target) =>
        ({
          ...fields,
          jitterBufferMinMs: min,
          jitterBufferMaxMs: max,
          jitterBufferTargetMs: target,
        }) as PipelineSettings,
    )
  })
