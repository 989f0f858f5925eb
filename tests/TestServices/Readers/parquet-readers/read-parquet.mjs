// Reads Parquet files with one JavaScript reader and prints {file: [rows]} in the canonical form of canonical.mjs.
// Usage: node read-parquet.mjs parquet-wasm|polars|hyparquet <file>...
import { readFileSync } from 'fs'
import { tableFromIPC } from 'apache-arrow'
import { arrowRows, jsValue } from './canonical.mjs'

const [reader, ...files] = process.argv.slice(2)

async function read(file) {
  switch (reader) {
    case 'parquet-wasm': {
      // arrow-rs compiled to WebAssembly
      const { readParquet } = await import('parquet-wasm')
      return arrowRows(tableFromIPC(readParquet(new Uint8Array(readFileSync(file))).intoIPCStream()))
    }
    case 'polars': {
      // nodejs-polars converts only some types to JavaScript (not binary): its frame is handed over as Arrow IPC.
      const { default: pl } = await import('nodejs-polars')
      return arrowRows(tableFromIPC(pl.readParquet(file).writeIPC({ compatLevel: 0 })))
    }
    case 'hyparquet': {
      const { parquetReadObjects } = await import('hyparquet')
      const { compressors } = await import('hyparquet-compressors')
      const bytes = readFileSync(file)
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      // utf8: false keeps binary columns as bytes (only columns annotated as strings are decoded).
      return (await parquetReadObjects({ file: buffer, compressors, utf8: false })).map(jsValue)
    }
    default: throw new Error(`unknown reader ${reader}; use parquet-wasm, polars or hyparquet`)
  }
}

const result = {}
for (const file of files) result[file] = await read(file)
process.stdout.write(JSON.stringify(result))
