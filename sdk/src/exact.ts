// Type-level helpers that make a handler's returned object exact. TypeScript does not check
// excess properties of an object returned from a contextually typed function, so a typo in
// an output field (`{ restartd: true }` beside the right one) would compile; checking the
// inferred return type against the schema's type with extra keys mapped to `never` makes
// it a compile error.

type KeysOf<T> = T extends unknown ? keyof T : never
type ValueAt<T, K> = T extends unknown ? (K extends keyof T ? T[K] : never) : never
type ElementOf<T> = T extends readonly (infer E)[] ? E : never

/**
 * `T` with every property that `Shape` does not have turned into `never`, recursively;
 * `T` itself when `Shape` allows anything (unknown, any, a record with string keys).
 *
 * @example
 * ```ts
 * type Checked = NoExtraKeys<{ ok: boolean; typo: number }, { ok: boolean }> // { ok: boolean; typo: never }
 * ```
 */
export type NoExtraKeys<T, Shape> = unknown extends Shape
  ? T
  : T extends readonly unknown[]
    ? { [K in keyof T]: NoExtraKeys<T[K], ElementOf<Shape>> }
    : T extends object
      ? string extends KeysOf<Shape>
        ? T
        : { [K in keyof T]: K extends KeysOf<Shape> ? NoExtraKeys<T[K], ValueAt<Shape, K>> : never }
      : T
