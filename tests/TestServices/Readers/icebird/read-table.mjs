// Reads an Iceberg table with icebird (an independent JavaScript reader) and prints its rows as JSON.
// Usage: node read-table.mjs <table url> [metadata file name]
// With S3_ENDPOINT set (http://host:port of an S3-compatible server, path-style), the s3:// locations the table's
// metadata holds are read from that server: icebird itself only knows AWS's hosts, so its requests to
// https://<bucket>.s3.amazonaws.com/<key> are sent to <endpoint>/<bucket>/<key>, as a reader told the endpoint by
// the catalog (LoadTableResult.config "s3.endpoint") would do.
import { icebergRead } from 'icebird'

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

const [tableUrl, metadataFileName] = process.argv.slice(2)
const rows = await icebergRead({ tableUrl, metadataFileName })
process.stdout.write(JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
