// The canonical form of canonical.mjs for plain JavaScript values (hyparquet's, icebird's); no dependencies, so the
// icebird folder imports it too.

export const hex = bytes => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
export const number = v => (Number.isFinite(v) ? v : String(v))

/** A JavaScript value: a Date as {"ms": n}, bytes as hex, BigInts as strings. */
export function jsValue(v) {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return String(v)
  if (typeof v === 'number') return number(v)
  if (v instanceof Date) return { ms: v.getTime() }
  if (v instanceof Uint8Array) return hex(v)
  if (Array.isArray(v)) return v.map(jsValue)
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsValue(x)]))
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsValue(x)]))
  return v
}
