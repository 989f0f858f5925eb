// Reads Iceberg tables with icebird and prints {tableUrl: [rows]}, each value in the canonical form of
// ../parquet-readers/canonical.mjs (icebird decodes Parquet with hyparquet: JS numbers, Dates).
// Usage: node read-canonical.mjs <table url> <metadata file name> [<table url> <metadata file name>...]
// With LOCATION_FROM and LOCATION_TO set, locations starting with LOCATION_FROM (a local warehouse's file:// prefix)
// are fetched from LOCATION_TO plus the rest (an HTTP server of that folder): icebird only fetches.
import { icebergRead } from 'icebird'
import { jsValue } from '../parquet-readers/js-values.mjs'

const from = process.env.LOCATION_FROM
const to = process.env.LOCATION_TO
if (from && to) {
  const innerFetch = globalThis.fetch
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url
    return innerFetch(url.startsWith(from) ? to + url.slice(from.length) : input, init)
  }
}

const args = process.argv.slice(2)
const result = {}
for (let i = 0; i + 1 < args.length; i += 2)
  result[args[i]] = (await icebergRead({ tableUrl: args[i], metadataFileName: args[i + 1] })).map(jsValue)
process.stdout.write(JSON.stringify(result))
