// One JSON form for the values every reader returns, so a test can hold them against the values written. Exact where
// the reader is: integers, decimals (scaled text), dates (days since 1970), times (microseconds since midnight) and
// timestamps (microseconds since 1970) as strings; floating point as JSON numbers ("NaN", "Infinity" as strings);
// uuid, fixed and binary as lowercase hex; structs as objects, lists as arrays, maps as objects. Where a reader hands
// out JavaScript values its documented mappings show through: a JS Date as {"ms": n}, a decimal as a JSON number.
import { Type, makeVector } from 'apache-arrow'
import { hex, jsValue, number } from './js-values.mjs'

export { jsValue }

/** Rows of an Arrow table (parquet-wasm's, or polars' written out as Arrow IPC), each column in the canonical form. */
export function arrowRows(table) {
  const rows = Array.from({ length: table.numRows }, () => ({}))
  for (const field of table.schema.fields) {
    let row = 0
    for (const data of table.getChild(field.name).data) {
      const vector = makeVector(data)
      for (let i = 0; i < vector.length; i++) rows[row++][field.name] = arrowValue(vector, i)
    }
  }
  return rows
}

/** A 64-bit value as the reader stored it (Arrow's JavaScript getters turn times and timestamps into lossy numbers). */
function raw64(vector, i) {
  const data = vector.data[0]
  return BigInt(data.values[data.offset + i])
}

const toMicros = { [0]: 1000000n, [1]: 1000n, [2]: 1n } // SECOND, MILLISECOND, MICROSECOND; NANOSECOND divides

function micros(value, unit) {
  return unit === 3 ? value / 1000n : value * toMicros[unit]
}

function scaled(unscaled, scale) {
  const negative = unscaled < 0n
  let digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0')
  if (scale > 0) digits = digits.slice(0, -scale) + '.' + digits.slice(-scale)
  return (negative ? '-' : '') + digits
}

function arrowValue(vector, i) {
  if (!vector.isValid(i)) return null
  const type = vector.type
  switch (type.typeId) {
    case Type.Bool: return vector.get(i)
    case Type.Int: return String(vector.get(i))
    case Type.Float: return number(vector.get(i))
    case Type.Decimal: return scaled(BigInt(vector.get(i).toString()), type.scale)
    case Type.Date: return String(Math.floor(vector.get(i) / 86400000))
    case Type.Time: return type.bitWidth === 64 ? String(micros(raw64(vector, i), type.unit)) : String(micros(BigInt(vector.get(i)), type.unit))
    case Type.Timestamp: return String(micros(raw64(vector, i), type.unit))
    case Type.Utf8: case Type.LargeUtf8: case Type.Utf8View: return vector.get(i)
    case Type.Binary: case Type.LargeBinary: case Type.BinaryView: case Type.FixedSizeBinary: return hex(vector.get(i))
    case Type.Struct: {
      const value = {}
      type.children.forEach((child, k) => { value[child.name] = arrowValue(vector.getChildAt(k), i) })
      return value
    }
    case Type.List: case Type.LargeList: case Type.FixedSizeList: {
      const items = vector.get(i)
      return Array.from({ length: items.length }, (_, j) => arrowValue(items, j))
    }
    case Type.Map: {
      // Arrow's JavaScript map rows give their entries' values as JavaScript values.
      const value = {}
      for (const [k, v] of vector.get(i)) value[String(k)] = jsValue(v)
      return value
    }
    default: throw new Error(`no canonical form for Arrow type ${type}`)
  }
}
