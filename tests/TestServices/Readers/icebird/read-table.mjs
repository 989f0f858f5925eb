// Reads an Iceberg table with icebird (an independent JavaScript reader) and prints its rows as JSON.
// Usage: node read-table.mjs <table url> [metadata file name] [snapshot id,snapshot id,...]
// With S3_ENDPOINT set (http://host:port of an S3-compatible server, path-style), the s3:// locations the table's
// metadata holds are read from that server: icebird itself only knows AWS's hosts, so its requests to
// https://<bucket>.s3.amazonaws.com/<key> are sent to <endpoint>/<bucket>/<key>, as a reader told the endpoint by
// the catalog (LoadTableResult.config "s3.endpoint") would do.
// With LOCATION_FROM and LOCATION_TO set, every location starting with LOCATION_FROM (a local warehouse's file:///
// prefix) is fetched from LOCATION_TO plus the rest (an HTTP server of that folder): icebird only fetches.
// With snapshot ids, those snapshots are read instead of the current one (older ones, branches', tags'), and the
// output is an object: per id, {"rows": [...]} or {"error": "..."}.
import { icebergMetadata, icebergRead } from 'icebird'

const endpoint = process.env.S3_ENDPOINT?.replace(/\/$/, '')
if (endpoint) {
  const awsFetch = globalThis.fetch
  const awsHost = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\//
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url
    const m = awsHost.exec(url)
    return awsFetch(m ? `${endpoint}/${m[1]}/${url.slice(m[0].length)}` : input, init)
  }
}

const from = process.env.LOCATION_FROM
const to = process.env.LOCATION_TO
if (from && to) {
  const innerFetch = globalThis.fetch
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input.url
    return innerFetch(url.startsWith(from) ? to + url.slice(from.length) : input, init)
  }
}

const [tableUrl, metadataFileName, snapshotIds] = process.argv.slice(2)
const json = value => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
if (snapshotIds) {
  // Each snapshot's rows (or the error reading it), by snapshot id, from one metadata file.
  const metadata = await icebergMetadata({ tableUrl, metadataFileName })
  const result = {}
  const pending = snapshotIds.split(',')
  // A few snapshots at a time: the reads wait on HTTP far more than on the CPU.
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let snapshotId; (snapshotId = pending.shift()) !== undefined;) {
      // JSON numbers: the id given and the ids parsed from the metadata round to the same double.
      const id = Number(snapshotId)
      try {
        if (!metadata.snapshots?.some(s => s['snapshot-id'] === id)) throw new Error(`no snapshot ${snapshotId} in the metadata`)
        result[snapshotId] = { rows: await icebergRead({ tableUrl, metadata: { ...metadata, 'current-snapshot-id': id } }) }
      } catch (e) {
        result[snapshotId] = { error: String(e?.message ?? e) }
      }
    }
  }))
  process.stdout.write(json(result))
} else {
  process.stdout.write(json(await icebergRead({ tableUrl, metadataFileName })))
}
