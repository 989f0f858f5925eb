// Streams: the list, and one stream's endpoint, throughput, rejections, log, schema, Kafka source and recent records.
import { get, del, seg } from '../api.js';
import { h, num, bytes, time, ago, panel, kv, empty, codeBlock, dataTable, holder, pageHead, badge, stateBadge, notice } from '../ui.js';
import { timeChart } from '../charts.js';
import { failure, schemaTable, recordsTable } from './common.js';

export function curlExample(stream) {
  const base = location.origin;
  const fields = stream.schema && stream.schema.fields ? stream.schema.fields : [];
  const sample = {};
  for (const f of fields.slice(0, 6)) sample[f.name] = sampleValue(f.type, f.name);
  const body = JSON.stringify(stream.schemaless ? [{ any: 'json' }] : [sample]);
  return `curl -s -XPOST ${base}/streams/${stream.name} \\\n  -H 'content-type: application/json' \\\n  -H "authorization: Bearer $DATAPLANE_TOKEN" \\\n  -d '${body.replace(/'/g, "'\\''")}'`;
}

function sampleValue(type, name) {
  const t = typeof type === 'string' ? type : type && type.type;
  switch (t) {
    case 'long': case 'int': return 1;
    case 'float': case 'double': return 1.5;
    case 'boolean': return true;
    case 'date': return new Date().toISOString().slice(0, 10);
    case 'time': return '12:00:00';
    case 'timestamp': return new Date().toISOString().slice(0, 19);
    case 'timestamptz': return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    case 'uuid': return '123e4567-e89b-12d3-a456-426614174000';
    case 'string': return name === 'user' ? 'ada' : 'text';
    case 'struct': return {};
    case 'list': return [];
    case 'map': return {};
    default: return t && t.startsWith('decimal') ? '1.00' : null;
  }
}

export function newcomerSteps(canManage) {
  return [
    h('p', null, 'A stream takes JSON records over HTTP (or from a Kafka topic); a pipeline writes them to an Iceberg table.'),
    canManage
      ? h('p', null, h('a', { class: 'button', href: '#/create' }, 'Create a stream, sink and pipeline'))
      : h('p', null, 'This token may not create streams; ask for a token without ReadOnly or IngestOnly.'),
    h('p', { class: 'hint' }, 'Or from a shell:'),
    codeBlock(`curl -s -XPOST ${location.origin}/api/v1/streams -H 'content-type: application/json' \\\n  -d '{"name":"events","schema":{"fields":[{"name":"id","type":"long","required":true},{"name":"user","type":"string"}]}}'`, 'create-stream command'),
  ];
}

export async function list(main, ctx) {
  const actions = ctx.canManagePipelines ? [h('a', { class: 'button', href: '#/create', id: 'create-button' }, 'Create pipeline')] : [];
  main.append(pageHead('Streams', 'Where records arrive: over HTTP at /streams/NAME, or from a Kafka topic.', actions));
  const error = holder();
  const table = dataTable({
    label: 'Streams',
    columns: [
      { label: 'Name', value: (s) => h('a', { href: `#/streams/${seg(s.name)}` }, s.name) },
      { label: 'Source', value: (s) => (s.state === 'failed' ? '–' : s.source ? `Kafka topic ${s.source.topic}` : 'HTTP') },
      { label: 'State', value: (s) => stateBadge(s.state) },
      { label: 'Fields', num: true, value: (s) => (s.schemaless ? 'schemaless' : s.schema ? num(s.schema.fields.length) : '–') },
      { label: 'Records in log', num: true, value: (s) => (s.log ? num(s.log.end_offset - s.log.start_offset) : '–') },
      { label: 'Records ever', num: true, value: (s) => (s.log ? num(s.log.end_offset) : '–') },
      { label: 'Log size', num: true, value: (s) => (s.log ? bytes(s.log.size_bytes) : '–') },
      { label: 'Created', value: (s) => time(s.created_at) },
    ],
    empty: empty('No streams yet', ...newcomerSteps(ctx.canManagePipelines)),
  });
  main.append(error.el, panel('All streams', table.el));
  ctx.every(2000, async () => {
    try {
      const r = await get('/api/v1/streams');
      error.set('', () => null);
      table.set(r.streams);
    } catch (e) { error.set(e.message, () => failure(e, 'Listing streams')); }
  });
}

export async function detail(main, ctx, name) {
  const crumbs = [h('a', { href: '#/streams' }, 'Streams'), ' / ', name];
  let stream;
  try { stream = await get(`/api/v1/streams/${seg(name)}`); }
  catch (e) { main.append(pageHead(name, null, null, crumbs), failure(e, `Stream '${name}'`)); return; }
  const actions = [];
  if (ctx.canManagePipelines) {
    actions.push(h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Delete stream '${name}' and its ingest log? Pipelines reading it must be deleted first.`)) return;
      try { await del(`/api/v1/streams/${seg(name)}`); ctx.go('#/streams'); } catch (e) { main.prepend(failure(e, 'Deleting')); }
    } }, 'Delete stream'));
  }
  main.append(pageHead(`Stream ${name}`, stream.source ? `Fed by Kafka topic ${stream.source.topic}` : 'Takes JSON records over HTTP', actions, crumbs));
  if (stream.state === 'failed') { main.append(notice('error', `This stream failed to load: ${stream.errors?.[0]?.message || stream.error || 'see the server log'}`)); return; }

  const chart = timeChart('Records in and requests rejected per second, last 15 minutes', {
    series: [{ label: 'records in', unit: 'records/s' }, { label: 'rejected', unit: 'requests/s', axis: 'right', color: '#a51d24' }],
  });
  const bytesChart = timeChart('Bytes in per second, last 15 minutes', { series: [{ label: 'bytes in', unit: 'bytes/s', color: '#17663a' }] });
  ctx.onLeave(() => { chart.destroy(); bytesChart.destroy(); });
  const counts = holder();
  const rejections = holder();
  const logBox = holder();
  const sourceBox = holder();
  const readersBox = holder();
  const recordsBox = holder(h('p', { class: 'loading' }, 'Loading…'));

  main.append(
    h('div', { class: 'grid' },
      panel('Send records', stream.endpoint
        ? [h('p', null, 'POST a JSON array of objects (or NDJSON, optionally gzip) to ', h('code', null, stream.endpoint), '. A 200 means the records are on disk.'), codeBlock(curlExample(stream), 'curl example')]
        : h('p', null, `Records come from Kafka topic ${stream.source.topic} on ${stream.source.bootstrap_servers}; produce to that topic.`)),
      panel('Accepted and rejected', counts.el, rejections.el),
      h('section', { class: 'panel', 'aria-label': 'Records in' }, chart.el),
      h('section', { class: 'panel', 'aria-label': 'Bytes in' }, bytesChart.el),
      panel('Ingest log', logBox.el),
      panel('Schema', stream.schemaless ? h('p', null, 'Schemaless: each record is kept whole as JSON text in the column "value".') : schemaTable(stream.schema.fields, null)),
      stream.source ? h('section', { class: 'panel wide', 'aria-label': 'Kafka source' }, h('h2', null, 'Kafka source'), sourceBox.el) : null,
      panel('Read by', readersBox.el),
      h('section', { class: 'panel wide', 'aria-label': 'Recent records' }, h('h2', null, 'Most recent records'), recordsBox.el),
    ));

  ctx.every(2000, async () => {
    const [s, activity] = await Promise.all([
      get(`/api/v1/streams/${seg(name)}`).catch((e) => e),
      get(`/api/v1/streams/${seg(name)}/activity`).catch((e) => e),
    ]);
    if (!(s instanceof Error)) {
      stream = s;
      logBox.set(s.log, () => {
        const full = s.log.max_bytes ? s.log.size_bytes / s.log.max_bytes : 0;
        return kv([
          ['Offsets held', `${num(s.log.start_offset)} to ${num(s.log.end_offset)} (${num(s.log.end_offset - s.log.start_offset)} records)`],
          ['Size on disk', s.log.max_bytes ? `${bytes(s.log.size_bytes)} of ${bytes(s.log.max_bytes)}` : bytes(s.log.size_bytes)],
          ['Segments', num(s.log.segments)],
          ['Backpressure', full >= 0.999 ? badge('log full: ingestion answers 429 until pipelines catch up', 'bad')
            : full >= 0.8 ? badge(`log ${Math.round(full * 100)}% full`, 'warn') : badge('none: accepting records', 'ok')],
        ]);
      });
      if (s.source) sourceBox.set(s.source, () => sourcePanel(s.source));
    }
    if (activity instanceof Error) {
      counts.set(activity.message, () => failure(activity, 'Throughput'));
    } else {
      const a = activity;
      const times = []; const recs = []; const byts = []; const rejected = [];
      for (let i = 0; i < a.buckets.records.length; i++) {
        times.push(a.buckets.start + i * a.buckets.seconds);
        recs.push(a.buckets.records[i] / a.buckets.seconds);
        byts.push(a.buckets.bytes[i] / a.buckets.seconds);
        rejected.push(a.buckets.rejected[i] / a.buckets.seconds);
      }
      chart.set(times, recs, rejected);
      bytesChart.set(times, byts);
      counts.set([a.accepted, a.rejected], () => kv([
        ['Accepted', `${num(a.accepted.records)} records in ${num(a.accepted.requests)} requests (${bytes(a.accepted.bytes)})`],
        ['Rejected requests', num(a.rejected.requests)],
        ...Object.entries(a.rejected.by_reason).map(([reason, n]) => [`Rejected: ${reason.replace(/_/g, ' ')}`, num(n)]),
        ['Since', time(a.since)],
      ]));
      rejections.set(a.rejected.recent, () => a.rejected.recent.length === 0
        ? h('p', { class: 'hint' }, 'No request was rejected since the server started.')
        : (() => {
          const t = dataTable({
            caption: 'Latest rejected requests', pageSize: 5,
            columns: [
              { label: 'When', value: (r) => h('span', { class: 'nowrap', title: time(r.at) }, ago(r.at)) },
              { label: 'Reason', value: (r) => badge(r.reason.replace(/_/g, ' '), 'bad') },
              { label: 'Status', num: true, value: (r) => String(r.status) },
              { label: 'Message', value: (r) => r.message },
            ],
          });
          t.set(a.rejected.recent);
          return t.el;
        })());
    }
  });
  ctx.every(5000, async () => {
    const p = await get('/api/v1/pipelines').catch(() => null);
    if (p) {
      const readers = p.pipelines.filter((x) => x.stream === name);
      readersBox.set(readers.map((x) => [x.name, x.state]), () => readers.length === 0
        ? h('div', null, h('p', null, 'No pipeline reads this stream yet: records wait in its log.'),
          ctx.canManagePipelines ? h('a', { class: 'button secondary', href: `#/create?stream=${seg(name)}` }, 'Create a pipeline from it') : null)
        : h('ul', null, readers.map((x) => h('li', null, h('a', { href: `#/pipelines/${seg(x.name)}` }, x.name), ' ', stateBadge(x.state)))));
    }
    try {
      const r = await get(`/api/v1/streams/${seg(name)}/records?limit=20`);
      recordsBox.set(r, () => [
        h('p', { class: 'hint' }, r.records.length ? `The last ${r.records.length} records in the log (offsets ${num(r.first_offset)} to ${num(r.end_offset - 1)}), newest last.` : ''),
        recordsTable(r.records, null, empty('No records yet', h('p', null, 'Send one with the curl command above; it shows here within seconds.'))),
      ]);
    } catch (e) { recordsBox.set(e.message, () => failure(e, 'Recent records')); }
  });
}

function sourcePanel(src) {
  const parts = dataTable({
    caption: 'Partitions', pageSize: 50,
    columns: [
      { label: 'Partition', num: true, value: (p) => String(p.partition) },
      { label: 'Next offset', num: true, value: (p) => num(p.next_offset) },
      { label: 'High watermark', num: true, value: (p) => num(p.high_watermark) },
      { label: 'Lag (messages)', num: true, value: (p) => num(p.lag) },
    ],
    empty: h('p', { class: 'hint' }, 'No partition assigned yet.'),
  });
  parts.set(src.partitions || []);
  const errors = dataTable({
    caption: 'Latest invalid messages', pageSize: 10,
    columns: [
      { label: 'When', value: (e) => time(e.at) },
      { label: 'Partition', num: true, value: (e) => String(e.partition) },
      { label: 'Offset', num: true, value: (e) => num(e.offset) },
      { label: 'Field', value: (e) => e.field || '–' },
      { label: 'Reason', value: (e) => e.reason },
    ],
    empty: h('p', { class: 'hint' }, 'No invalid message.'),
  });
  errors.set(src.recent_errors || []);
  return [
    kv([
      ['Topic', src.topic], ['Brokers', src.bootstrap_servers], ['State', stateBadge(src.state)],
      ['Records in', num(src.records_in)], ['Invalid messages (skipped)', num(src.invalid_records)],
      ['Last error', src.last_error ? `${src.last_error} (${time(src.last_error_at)})` : 'none'],
    ]),
    parts.el, errors.el,
  ];
}
