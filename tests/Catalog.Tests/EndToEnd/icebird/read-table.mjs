// Reads an Iceberg table with icebird (an independent JavaScript reader) and prints its rows as JSON.
// Usage: node read-table.mjs <table url>
import { icebergRead } from 'icebird'

const rows = await icebergRead({ tableUrl: process.argv[2] })
process.stdout.write(JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
