// Tables: namespaces, the tables of one, and a table's schema and its history, partition spec, snapshot timeline,
// branches and tags, properties, files, first rows, all from the Iceberg REST catalog (/iceberg/v1), and maintenance
// settings and runs and the table preview from the management API (/api/v1/tables).
import { get, seg, nsPath } from '../api.js';
import { h, num, bytes, time, ago, panel, kv, empty, dataTable, holder, pageHead, badge, codeBlock } from '../ui.js';
import { failure, schemaTable, typeText, recordsTable } from './common.js';
import { barChart } from '../charts.js';

const PAGE = 100;
const nsFromParam = (p) => p.split('\u001f');
const nsParam = (levels) => seg(levels.join('\u001f'));
const nsText = (levels) => levels.join('.');

/** A list the server pages (pageToken/pageSize): Previous and Next keep the tokens seen. */
function serverPaged(fetchPage, render, label) {
  const tokens = [''];
  let index = 0;
  let nextToken = null;
  const body = holder();
  const prev = h('button', { type: 'button', class: 'small secondary' }, 'Previous');
  const next = h('button', { type: 'button', class: 'small secondary' }, 'Next');
  const status = h('span', { 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager', role: 'navigation', 'aria-label': `${label} pages` }, prev, next, status);
  async function load() {
    const r = await fetchPage(tokens[index]);
    nextToken = r.next;
    body.set([tokens[index], r.items], () => render(r.items));
    prev.disabled = index === 0;
    next.disabled = !nextToken;
    pager.hidden = index === 0 && !nextToken;
    status.textContent = `page ${index + 1}`;
  }
  prev.addEventListener('click', () => { if (index > 0) { index--; load(); } });
  next.addEventListener('click', () => { if (nextToken) { tokens[index + 1] = nextToken; index++; load(); } });
  return { el: h('div', null, body.el, pager), load };
}

export async function namespaces(main, ctx) {
  main.append(pageHead('Tables', 'Iceberg tables in the catalog every engine reads (/iceberg/v1), by namespace.'));
  const error = holder();
  const list = serverPaged(async (token) => {
    const r = await get(`/iceberg/v1/namespaces?pageSize=${PAGE}&pageToken=${encodeURIComponent(token)}`);
    return { items: r.namespaces, next: r['next-page-token'] };
  }, (items) => {
    if (items.length === 0) return emptyTables(ctx);
    return h('ul', { class: 'link-grid', 'aria-label': 'Namespaces' },
      items.map((n) => h('li', null, h('a', { href: `#/tables/${nsParam(n)}` }, nsText(n)))));
  }, 'Namespaces');
  main.append(error.el, panel('Namespaces', list.el));
  ctx.every(5000, async () => {
    try { await list.load(); error.set('', () => null); } catch (e) { error.set(e.message, () => failure(e, 'Listing namespaces')); }
  });
}

function emptyTables(ctx) {
  return empty('No tables yet',
    h('p', null, "A pipeline's Iceberg sink creates its table when the pipeline starts. Create a stream, sink and pipeline, and the table shows here; its snapshots and rows follow the records you send."),
    ctx.canManagePipelines ? h('p', null, h('a', { class: 'button', href: '#/create' }, 'Create a pipeline')) : null,
    h('p', { class: 'hint' }, 'Or create one from a shell:'),
    codeBlock('dataplane table create db.events --schema \'id:long!,ts:timestamptz,user:string\' --partition \'day(ts)\'', 'table create command'));
}

export async function namespace(main, ctx, nsText_) {
  const levels = nsFromParam(nsText_);
  const crumbs = [h('a', { href: '#/tables' }, 'Tables'), ' / ', nsText(levels)];
  main.append(pageHead(`Namespace ${nsText(levels)}`, null, null, crumbs));
  const error = holder();
  const list = serverPaged(async (token) => {
    const r = await get(`/iceberg/v1/namespaces/${nsPath(levels)}/tables?pageSize=${PAGE}&pageToken=${encodeURIComponent(token)}`);
    return { items: r.identifiers, next: r['next-page-token'] };
  }, (items) => {
    if (items.length === 0) return emptyTables(ctx);
    return h('ul', { class: 'link-grid', 'aria-label': `Tables in ${nsText(levels)}` },
      items.map((id) => h('li', null, h('a', { href: `#/tables/${nsParam(levels)}/${seg(id.name)}` }, id.name))));
  }, 'Tables');
  main.append(error.el, panel('Tables', list.el));
  ctx.every(5000, async () => {
    try { await list.load(); error.set('', () => null); } catch (e) { error.set(e.message, () => failure(e, 'Listing tables')); }
  });
}

export async function table(main, ctx, nsText_, name) {
  const levels = nsFromParam(nsText_);
  const full = `${nsText(levels)}.${name}`;
  const crumbs = [h('a', { href: '#/tables' }, 'Tables'), ' / ', h('a', { href: `#/tables/${nsParam(levels)}` }, nsText(levels)), ' / ', name];
  const base = `/iceberg/v1/namespaces/${nsPath(levels)}/tables/${seg(name)}`;
  let loaded;
  try { loaded = await get(base); }
  catch (e) { main.append(pageHead(full, null, null, crumbs), failure(e, `Table ${full}`)); return; }
  main.append(pageHead(`Table ${full}`, loaded['metadata-location'], null, crumbs));

  const overview = holder(); const schema = holder(); const history = holder(); const spec = holder();
  const timeline = holder(); const refs = holder(); const properties = holder();
  const maintenance = holder(h('p', { class: 'loading' }, 'Loading…'));
  const files = holder(h('p', { class: 'loading' }, 'Loading…'));
  const rows = holder(h('p', { class: 'loading' }, 'Loading…'));
  const sizes = barChart('Data files by size', { unit: 'files', xLabel: 'file size' });
  ctx.onLeave(() => sizes.destroy());
  main.append(h('div', { class: 'grid' },
    panel('Overview', overview.el),
    h('section', { class: 'panel', 'aria-label': 'Snapshots' }, h('h2', null, 'Snapshots'), timeline.el),
    panel('Schema', schema.el),
    panel('Partition spec', spec.el),
    panel('Schema history', history.el),
    panel('Branches and tags', refs.el),
    panel('Properties', properties.el),
    h('section', { class: 'panel wide', 'aria-label': 'Maintenance' }, h('h2', null, 'Maintenance'), maintenance.el),
    h('section', { class: 'panel wide', 'aria-label': 'Files' }, h('h2', null, 'Files of the current snapshot'), sizes.el, files.el),
    h('section', { class: 'panel wide', 'aria-label': 'First rows' }, h('h2', null, 'First rows'), rows.el),
  ));

  const show = (t) => {
    const m = t.metadata;
    const current = (m.snapshots || []).find((s) => s['snapshot-id'] === m['current-snapshot-id']);
    const sum = current ? current.summary || {} : {};
    overview.set([t['metadata-location']], () => kv([
      ['Location', h('code', null, m.location)],
      ['Format version', String(m['format-version'])],
      ['Table uuid', m['table-uuid']],
      ['Current snapshot', current ? `${current['snapshot-id']} (${ago(current['timestamp-ms'])})` : 'none: the table is empty'],
      ['Records', num(Number(sum['total-records'] ?? 0))],
      ['Data files', num(Number(sum['total-data-files'] ?? 0))],
      ['Size', bytes(Number(sum['total-files-size'] ?? 0))],
      ['Last updated', time(m['last-updated-ms'])],
    ]));
    const currentSchema = (m.schemas || []).find((s) => s['schema-id'] === m['current-schema-id']) || (m.schemas || [])[0];
    schema.set([m['current-schema-id']], () => [h('p', { class: 'hint' }, `Schema ${currentSchema['schema-id']}, the current one.`), schemaTable(currentSchema.fields, null)]);
    history.set([(m.schemas || []).length], () => schemaHistory(m.schemas || [], m['current-schema-id']));
    spec.set([m['default-spec-id'], (m['partition-specs'] || []).length], () => specView(m, currentSchema));
    timeline.set([(m.snapshots || []).length, m['current-snapshot-id'], Object.keys(m.refs || {})], () => snapshotTimeline(m));
    refs.set([m.refs], () => refsTable(m));
    properties.set([m.properties], () => propertiesView(m.properties || {}));
  };
  show(loaded);
  let fresh = true; // just loaded: the first poll waits a period
  ctx.every(3000, async () => {
    if (fresh) { fresh = false; return; }
    try { const t = await get(base); loaded = t; show(t); } catch (e) { overview.set(e.message, () => failure(e)); }
  });
  const preview = `/api/v1/tables/${nsPath(levels)}/${seg(name)}`;
  ctx.every(5000, async () => {
    const m = await get(`${preview}/maintenance`).catch((e) => e);
    if (m instanceof Error) maintenance.set(m.message, () => failure(m, 'Maintenance'));
    else maintenance.set([m.settings, m.settings_error, (m.runs || []).map((r) => [r.id, r.state, r.phase, r.done])], () => maintenanceView(m));
  });
  ctx.every(5000, async () => {
    const [f, r] = await Promise.all([get(`${preview}/files?limit=500`).catch((e) => e), get(`${preview}/rows?limit=20`).catch((e) => e)]);
    if (f instanceof Error) files.set(f.message, () => failure(f, 'Files'));
    else {
      sizes.set(f.size_histogram.map((b) => b.label), f.size_histogram.map((b) => b.files));
      files.set([f.snapshot_id, f.files.length], () => {
        const t = dataTable({
          label: 'Files', pageSize: 10,
          columns: [
            { label: 'File (in the table\'s location)', wrap: true, value: (x) => h('code', { title: x.path }, x.path.startsWith(loaded.metadata.location + '/') ? x.path.slice(loaded.metadata.location.length + 1) : x.path) },
            { label: 'Content', value: (x) => x.content },
            { label: 'Partition', value: (x) => h('span', { class: 'nowrap' }, x.partition || '–') },
            { label: 'Records', num: true, value: (x) => num(x.records) },
            { label: 'Size', num: true, value: (x) => bytes(x.size_bytes) },
          ],
          empty: h('p', null, 'No files: the table has no snapshot yet.'),
        });
        t.set(f.files);
        return [h('p', { class: 'hint' }, `${num(f.total_files)} files, ${bytes(f.total_bytes)}${f.files.length < f.total_files ? `; the first ${num(f.files.length)} listed` : ''}.`), t.el];
      });
    }
    if (r instanceof Error) rows.set(r.message, () => failure(r, 'First rows'));
    else rows.set([r.snapshot_id, r.rows.length], () => [
      h('p', { class: 'hint' }, r.snapshot_id ? `The first ${r.rows.length} rows of snapshot ${r.snapshot_id}, read through the current schema.` : ''),
      recordsTable(r.rows, null, empty('No rows yet', h('p', null, 'Rows show here once a snapshot holds data: send records to a stream whose pipeline writes this table, then commit (flush).'))),
    ]);
  });
}

function schemaHistory(schemas, currentId) {
  if (schemas.length <= 1) return h('p', null, 'One schema so far: no change since the table was created.');
  const items = [];
  for (let i = 0; i < schemas.length; i++) {
    const s = schemas[i];
    const prev = i > 0 ? schemas[i - 1] : null;
    const changes = [];
    if (prev) {
      const before = new Map(prev.fields.map((f) => [f.id, f]));
      const after = new Map(s.fields.map((f) => [f.id, f]));
      for (const [id, f] of after) {
        const b = before.get(id);
        if (!b) changes.push(`added ${f.name} (id ${id}, ${typeText(f.type)})`);
        else {
          if (b.name !== f.name) changes.push(`renamed ${b.name} to ${f.name} (id ${id})`);
          if (typeText(b.type) !== typeText(f.type)) changes.push(`${f.name}: ${typeText(b.type)} to ${typeText(f.type)}`);
          if (b.required !== f.required) changes.push(`${f.name}: ${f.required ? 'now required' : 'now optional'}`);
        }
      }
      for (const [id, b] of before) if (!after.has(id)) changes.push(`dropped ${b.name} (id ${id})`);
    }
    items.push(h('li', null, h('strong', null, `Schema ${s['schema-id']}`), s['schema-id'] === currentId ? ' (current)' : '', ': ',
      prev ? (changes.length ? changes.join('; ') : 'no field change') : `${s.fields.length} fields at creation`));
  }
  return h('ul', null, items.reverse());
}

function specView(m, schema) {
  const specs = m['partition-specs'] || [];
  const current = specs.find((s) => s['spec-id'] === m['default-spec-id']) || specs[0];
  const nameOf = (id) => (schema.fields.find((f) => f.id === id) || {}).name || `field ${id}`;
  if (!current || current.fields.length === 0) return h('p', null, `Unpartitioned (spec ${current ? current['spec-id'] : 0}).`);
  const t = dataTable({
    label: 'Partition fields', pageSize: 50,
    columns: [
      { label: 'Partition field', value: (f) => h('code', null, f.name) },
      { label: 'Source column', value: (f) => nameOf(f['source-id']) },
      { label: 'Transform', value: (f) => f.transform },
      { label: 'Field id', num: true, value: (f) => String(f['field-id']) },
    ],
  });
  t.set(current.fields);
  return [h('p', { class: 'hint' }, `Spec ${current['spec-id']}${specs.length > 1 ? ` (of ${specs.length} specs in the table's history)` : ''}.`), t.el];
}

function snapshotTimeline(m) {
  const snapshots = [...(m.snapshots || [])].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms']);
  if (snapshots.length === 0) return h('p', null, 'No snapshots yet: the first commit to the table makes one.');
  const refsBySnapshot = {};
  for (const [n, r] of Object.entries(m.refs || {})) (refsBySnapshot[r['snapshot-id']] ||= []).push(`${r.type} ${n}`);
  const shown = snapshots.slice(0, 50);
  const items = shown.map((s) => {
    const sum = s.summary || {};
    const n = (k) => num(Number(sum[k] || 0));
    const by = sum['dataplane.sink']
      ? [' · written by sink ', h('strong', null, sum['dataplane.sink']), ` from stream ${sum['dataplane.stream']}, offsets ${num(Number(sum['dataplane.start-offset']))}–${num(Number(sum['dataplane.end-offset']))}`]
      : [];
    return h('li', { class: s['snapshot-id'] === m['current-snapshot-id'] ? 'current' : null },
      h('div', null, h('strong', null, sum.operation || 'unknown'), ` snapshot ${s['snapshot-id']}`,
        s['snapshot-id'] === m['current-snapshot-id'] ? [' ', badge('current', 'ok')] : null,
        (refsBySnapshot[s['snapshot-id']] || []).map((r) => [' ', badge(r, 'info')])),
      h('div', { class: 'when' }, `${time(s['timestamp-ms'])} (${ago(s['timestamp-ms'])})`, s['parent-snapshot-id'] ? ` · parent ${s['parent-snapshot-id']}` : ''),
      h('div', null, `files +${n('added-data-files')} −${n('deleted-data-files')} · records +${n('added-records')} −${n('deleted-records')} · total ${n('total-records')} records in ${n('total-data-files')} files`, by));
  });
  return [h('ol', { class: 'timeline', 'aria-label': 'Snapshots, newest first' }, items),
    snapshots.length > shown.length ? h('p', { class: 'hint' }, `${snapshots.length - shown.length} older snapshots not shown.`) : null];
}

function refsTable(m) {
  const refs = Object.entries(m.refs || {}).map(([name, r]) => ({ name, ...r }));
  const t = dataTable({
    label: 'Branches and tags', pageSize: 20,
    columns: [
      { label: 'Name', value: (r) => h('code', null, r.name) },
      { label: 'Kind', value: (r) => r.type },
      { label: 'Snapshot', value: (r) => String(r['snapshot-id']) },
      { label: 'Retention', value: (r) => [r['max-ref-age-ms'] ? `ref ${Math.round(r['max-ref-age-ms'] / 86400000)} d` : null, r['min-snapshots-to-keep'] ? `keep ${r['min-snapshots-to-keep']}` : null].filter(Boolean).join(', ') || 'default' },
    ],
    empty: h('p', null, 'No branch or tag: main appears at the first commit.'),
  });
  t.set(refs);
  return t.el;
}

function propertiesView(props) {
  const entries = Object.entries(props);
  return entries.length ? kv(entries.map(([k, v]) => [k, v])) : h('p', null, 'No table properties.');
}

const days = (ms) => `${+(ms / 86400000).toFixed(2)} d`;
const onOff = (on) => (on ? badge('on', 'ok') : badge('off', 'warn'));

// The maintenance API's settings (the table's properties, defaults filled in) and its runs: running and queued first, then the history.
function maintenanceView(m) {
  const s = m.settings;
  const settings = s
    ? kv([
      ['Automatic maintenance', onOff(s.enabled)],
      ['Compaction', [onOff(s.compaction.enabled), ` to files of ${bytes(s.compaction.target_file_size_bytes)}, from ${num(s.compaction.min_input_files)} files`]],
      ['Snapshot expiry', [onOff(s.expire_snapshots.enabled), ` older than ${days(s.expire_snapshots.max_snapshot_age_ms)}, keeping at least ${num(s.expire_snapshots.min_snapshots_to_keep)}`]],
      ['Orphan file removal', [onOff(s.remove_orphan_files.enabled), ` older than ${days(s.remove_orphan_files.older_than_ms)}, every ${days(s.remove_orphan_files.interval_ms)}`]],
      ['Manifest rewrite', [onOff(s.rewrite_manifests.enabled), ` from ${num(s.rewrite_manifests.min_manifests)} manifests`]],
    ])
    : h('p', { class: 'error-text' }, `The table's maintenance properties are not valid: ${m.settings_error}`);
  const runs = dataTable({
    label: 'Maintenance runs', pageSize: 10,
    columns: [
      { label: 'Job', value: (r) => r.job },
      { label: 'Trigger', value: (r) => r.trigger },
      { label: 'State', value: (r) => (r.state === 'finished' ? badge(r.outcome, r.outcome === 'failed' ? 'bad' : r.outcome === 'partial' ? 'warn' : 'ok') : badge(r.phase ? `${r.state}: ${r.phase} ${num(r.done)}/${num(r.total)}` : r.state, 'info')) },
      { label: 'Started', value: (r) => (r.started_at ? time(Date.parse(r.started_at)) : `queued ${ago(Date.parse(r.queued_at))}`) },
      { label: 'Read', value: (r) => (r.bytes_read !== undefined ? bytes(r.bytes_read) : '') },
      { label: 'Written', value: (r) => (r.bytes_written !== undefined ? bytes(r.bytes_written) : '') },
      { label: 'Files +/−', value: (r) => (r.files_written !== undefined ? `+${num(r.files_written)} −${num(r.files_deleted)}` : '') },
      { label: 'Summary', value: (r) => r.summary || '' },
    ],
    empty: h('p', null, 'No run yet: the scheduler runs jobs when the table crosses the thresholds above; POST …/maintenance/run queues one now.'),
  });
  runs.set(m.runs || []);
  return [settings, h('h3', null, 'Runs'), runs.el];
}

