// Usage: node roundtrip.mjs <catalog base URL, e.g. http://127.0.0.1:8181/iceberg> [warehouse]
// Creates a namespace and a table, commits a snapshot, loads the table back and lists, with iceberg-js.
// Prints one JSON line with what it saw; exits non-zero on any mismatch.
import { IcebergRestCatalog } from 'iceberg-js'

const [baseUrl, warehouse] = process.argv.slice(2)
const catalog = new IcebergRestCatalog({ baseUrl, warehouse })
const fail = (message) => { console.error(message); process.exit(1) }

const ns = { namespace: ['js_check'] }
await catalog.createNamespace(ns, { properties: { owner: 'iceberg-js' } })
const table = { namespace: ['js_check'], name: 'events' }
const created = await catalog.createTable(ns, {
  name: 'events',
  schema: {
    type: 'struct',
    'schema-id': 0,
    fields: [
      { id: 1, name: 'id', type: 'long', required: true },
      { id: 2, name: 'ts', type: 'timestamptz', required: false },
    ],
  },
  'partition-spec': { 'spec-id': 0, fields: [] },
  'write-order': { 'order-id': 0, fields: [] },
  properties: { 'write.format.default': 'parquet' },
})
if (created['format-version'] !== 2) fail(`created table has format-version ${created['format-version']}`)

const snapshotId = 4242
const commit = await catalog.commitTable(table, {
  requirements: [
    { type: 'assert-table-uuid', uuid: created['table-uuid'] },
    { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null },
  ],
  updates: [
    {
      action: 'add-snapshot',
      snapshot: {
        'snapshot-id': snapshotId,
        'sequence-number': 1,
        'timestamp-ms': Date.now(),
        'manifest-list': `${created.location}/metadata/snap-${snapshotId}.avro`,
        summary: { operation: 'append', 'added-data-files': '1', 'added-records': '10' },
        'schema-id': 0,
      },
    },
    { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
  ],
})
if (!commit['metadata-location']) fail('commit returned no metadata-location')

const loaded = await catalog.loadTable(table)
if (loaded['current-snapshot-id'] !== snapshotId) fail(`loaded current-snapshot-id ${loaded['current-snapshot-id']}, expected ${snapshotId}`)
const { identifiers } = await catalog.listTables(ns)
const { namespaces } = await catalog.listNamespaces()
if (!identifiers.some((t) => t.name === 'events')) fail(`listTables: ${JSON.stringify(identifiers)}`)
if (!namespaces.some((n) => (n.namespace ?? n).join('.') === 'js_check')) fail(`listNamespaces: ${JSON.stringify(namespaces)}`)

// A stale commit must come back as the spec's 409 CommitFailedException.
let conflict = null
try {
  await catalog.commitTable(table, {
    requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
    updates: [{ action: 'set-properties', updates: { stale: 'true' } }],
  })
} catch (e) {
  conflict = { status: e.status, type: e.icebergType }
}
if (conflict?.status !== 409 || conflict.type !== 'CommitFailedException') fail(`stale commit: ${JSON.stringify(conflict)}`)

console.log(JSON.stringify({
  currentSnapshotId: loaded['current-snapshot-id'],
  snapshots: loaded.snapshots.length,
  tables: identifiers.map((t) => t.name),
  namespaces: namespaces.map((n) => (n.namespace ?? n).join('.')),
  conflict,
}))
