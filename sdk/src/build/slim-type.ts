// The schema builders a plugin bundle carries instead of TypeBox. A plugin uses TypeBox only
// to build its schemas when its bundle loads; the host validates them as plain JSON Schema.
// Bundling all of TypeBox for that cost every plugin about 220 KB of source and 1.2 MB in
// its isolate. These builders give the same schemas as TypeBox 1.x's (the same enumerable
// JSON Schema, and TypeBox's hidden `~kind` and `~optional` marks, so a schema built here
// still reads as a TypeBox schema); the plugin build (bundle-plugin.ts) uses them only when
// the plugin calls nothing else of `Type`, and bundles TypeBox as before otherwise.
//
// It runs inside the sandbox (ECMAScript only) and is kept here as the text of an ES module,
// which the build hands esbuild in place of the `typebox` import of the SDK's entry.

export const SLIM_TYPE_GLOBAL_NAME = '__stavilySlimType'

/**
 * The builders a slim bundle can call: `Type.<name>(...)`, nothing else of `Type`
 * (`Type.Record` only as `Type.Record(Type.String(...), ...)`).
 */
export const SLIM_TYPE_BUILDERS: readonly string[] = [
  'Any',
  'Array',
  'Boolean',
  'Integer',
  'Literal',
  'Null',
  'Number',
  'Object',
  'Optional',
  'Record',
  'String',
  'Union',
  'Unknown',
]

export const SLIM_TYPE_SOURCE = `// @stavily/sdk: TypeBox's schema builders that a plugin uses, without the rest of TypeBox.
function hide(target, key, value) {
  Object.defineProperty(target, key, { configurable: true, writable: true, enumerable: false, value });
}
// TypeBox's Memory.Create: the enumerable part, then the options over it, then the hidden kind.
function create(kind, enumerable, options) {
  const schema = { ...enumerable, ...(options === undefined ? {} : options) };
  hide(schema, '~kind', kind);
  return schema;
}
function literalTypeName(value) {
  const type = typeof value;
  if (type === 'bigint' || type === 'boolean' || type === 'number' || type === 'string') return type;
  throw new Error('Invalid Literal value');
}
function isOptional(schema) {
  return typeof schema === 'object' && schema !== null && '~optional' in schema;
}
// TypeBox's Memory.Update(type, { '~optional': true }, {}): the own properties of type with
// their descriptors (but an earlier mark), then the mark, hidden.
function optional(type) {
  const result = {};
  for (const key of [...Object.getOwnPropertyNames(type), ...Object.getOwnPropertySymbols(type)]) {
    if (key === '~optional' || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    Object.defineProperty(result, key, Object.getOwnPropertyDescriptor(type, key));
  }
  hide(result, '~optional', true);
  return result;
}
function object(properties, options) {
  const required = Object.getOwnPropertyNames(properties).filter((key) => !isOptional(properties[key]));
  return create('Object', { type: 'object', ...(required.length > 0 ? { required } : {}), properties }, options);
}
const ${SLIM_TYPE_GLOBAL_NAME} = Object.freeze({
  Any: (options) => create('Any', {}, options),
  Array: (items, options) => create('Array', { type: 'array', items }, options),
  Boolean: (options) => create('Boolean', { type: 'boolean' }, options),
  Integer: (options) => create('Integer', { type: 'integer' }, options),
  Literal: (value, options) => create('Literal', { type: literalTypeName(value), const: value }, options),
  Null: (options) => create('Null', { type: 'null' }, options),
  Number: (options) => create('Number', { type: 'number' }, options),
  Object: object,
  Optional: optional,
  // Only with a string key (the build lets nothing else through): TypeBox keys the record by
  // the string's pattern when it has one, else by '^.*$'.
  Record: (key, value, options) => {
    if (key === null || typeof key !== 'object' || key['~kind'] !== 'String') throw new Error('Type.Record: only a Type.String() key is built without TypeBox');
    const pattern = 'pattern' in key && (typeof key.pattern === 'string' || key.pattern instanceof RegExp) ? key.pattern.toString() : '^.*$';
    return create('Record', { type: 'object', patternProperties: { [pattern]: value } }, options);
  },
  String: (options) => create('String', { type: 'string' }, options),
  Union: (anyOf, options) => create('Union', { anyOf }, options),
  Unknown: (options) => create('Unknown', {}, options),
});
export { ${SLIM_TYPE_GLOBAL_NAME} as Type };
`
