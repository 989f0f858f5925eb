// Pipelines: the list, and one pipeline's SQL, operator graph with counts, lag, commits and errors.
import { get, post, del, seg, nsPath } from '../api.js';
import { h, num, time, ago, duration, panel, kv, empty, dataTable, holder, pageHead, stateBadge, notice, codeBlock } from '../ui.js';
import { timeChart } from '../charts.js';
import { failure } from './common.js';
import { newcomerSteps } from './streams.js';

export async function list(main, ctx) {
  const actions = ctx.canManagePipelines ? [h('a', { class: 'button', href: '#/create', id: 'create-button' }, 'Create pipeline')] : [];
  main.append(pageHead('Pipelines', 'Each reads a stream, runs its SQL and commits to a sink, exactly once.', actions));
  const error = holder();
  const table = dataTable({
    label: 'Pipelines',
    columns: [
      { label: 'Name', value: (p) => h('a', { href: `#/pipelines/${seg(p.name)}` }, p.name) },
      { label: 'Stream', value: (p) => (p.stream ? h('a', { href: `#/streams/${seg(p.stream)}` }, p.stream) : '–') },
      { label: 'Sink', value: (p) => p.sink || '–' },
      { label: 'State', value: (p) => stateBadge(p.state) },
      { label: 'Lag (records)', num: true, value: (p) => (p.lag ? num(p.lag.records) : '–') },
      { label: 'Lag (seconds)', num: true, value: (p) => (p.lag ? duration(p.lag.seconds) : '–') },
      { label: 'Last commit', value: (p) => (p.last_commit ? h('span', { title: time(p.last_commit.committed_at) }, ago(p.last_commit.committed_at)) : 'none yet') },
      { label: 'Errors', value: (p) => (p.errors && p.errors.length ? h('span', { class: 'error-text' }, p.errors[0].message) : 'none') },
    ],
    empty: empty('No pipelines yet', ...newcomerSteps(ctx.canManagePipelines)),
  });
  main.append(error.el, panel('All pipelines', table.el));
  ctx.every(2000, async () => {
    try {
      const r = await get('/api/v1/pipelines');
      error.set('', () => null);
      table.set(r.pipelines);
    } catch (e) { error.set(e.message, () => failure(e, 'Listing pipelines')); }
  });
}

export async function detail(main, ctx, name) {
  const crumbs = [h('a', { href: '#/pipelines' }, 'Pipelines'), ' / ', name];
  let p;
  try { p = await get(`/api/v1/pipelines/${seg(name)}`); }
  catch (e) { main.append(pageHead(name, null, null, crumbs), failure(e, `Pipeline '${name}'`)); return; }
  const messages = holder();
  const actions = [];
  if (ctx.canManagePipelines) {
    actions.push(h('button', { type: 'button', class: 'secondary', onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        const r = await post(`/api/v1/pipelines/${seg(name)}/flush`, {});
        messages.set(`flush-${Date.now()}`, () => notice('ok', r.snapshot_id ? `Committed snapshot ${r.snapshot_id}: records up to offset ${num(r.committed_offset)}.` : 'Nothing new to commit.'));
      } catch (e) { messages.set(`flush-${Date.now()}`, () => failure(e, 'Flush')); }
      finally { ev.target.disabled = false; }
    } }, 'Commit now (flush)'));
    actions.push(h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Delete pipeline '${name}'? Its stream, sink and table stay.`)) return;
      try { await del(`/api/v1/pipelines/${seg(name)}`); ctx.go('#/pipelines'); } catch (e) { messages.set(`del-${Date.now()}`, () => failure(e, 'Deleting')); }
    } }, 'Delete pipeline'));
  }
  main.append(pageHead(`Pipeline ${name}`, p.stream ? `${p.stream} → ${(p.sinks || []).filter((k) => k.role !== 'dead_letter').map((k) => k.name).join(', ') || p.sink}${p.dead_letter ? ` (dead letters: ${p.dead_letter})` : ''}` : null, actions, crumbs), messages.el);
  if (p.state === 'failed' && !p.sql) { main.append(notice('error', `This pipeline failed to load: ${p.errors?.[0]?.message}`)); return; }

  let sink = null;
  try { sink = await get(`/api/v1/sinks/${seg(p.sink)}`); } catch { sink = null; }
  // The engine's plan of each statement, from the validate call (a token that may not call it gets the plan read from the SQL).
  let compiled = null;
  try { compiled = await post('/api/v1/pipelines/validate', { sql: p.sql }); } catch { compiled = null; }

  const graph = holder();
  const status = holder();
  const errors = holder();
  const commits = holder(h('p', { class: 'loading' }, 'Loading…'));
  const lagChart = timeChart('Lag and records out per second', { windowSeconds: 300, note: 'Sampled every 2 s while this page is open, last 5 minutes.',
    series: [{ label: 'lag', unit: 'records' }, { label: 'records out', unit: 'records/s', axis: 'right' }],
  });
  ctx.onLeave(() => lagChart.destroy());
  const samples = { t: [], lag: [], out: [] };
  let previous = null;

  main.append(h('div', { class: 'grid' },
    h('section', { class: 'panel wide', 'aria-label': 'Plan' }, h('h2', null, 'Plan'), graph.el),
    panel('SQL', codeBlock(p.sql, 'pipeline SQL')),
    panel('State, offsets and lag', status.el),
    h('section', { class: 'panel wide', 'aria-label': 'Lag chart' }, lagChart.el),
    panel('Recent commits', commits.el),
    panel('Errors', errors.el),
    panel('State and checkpoints', h('p', null, p.watermark !== undefined
      ? kv([['Watermark', time(p.watermark)], ['State size', String(p.state_size ?? '–')]])
      : 'This pipeline is stateless (INSERT … SELECT … WHERE): it keeps no state, and its checkpoint is the offset range committed with each snapshot (see Recent commits).')),
  ));

  ctx.every(2000, async () => {
    try { p = await get(`/api/v1/pipelines/${seg(name)}`); } catch (e) { status.set(e.message, () => failure(e)); return; }
    const now = Date.now() / 1000;
    const out = p.records ? p.records.out : null;
    let outRate = null;
    if (previous && out !== null) outRate = Math.max(0, (out - previous.out) / Math.max(0.001, now - previous.t));
    previous = { t: now, out };
    samples.t.push(now); samples.lag.push(p.lag.records); samples.out.push(outRate);
    while (samples.t.length && samples.t[0] < now - 300) { samples.t.shift(); samples.lag.shift(); samples.out.shift(); }
    lagChart.set(samples.t, samples.lag, samples.out);
    graph.set([p.records, p.state, p.offsets, p.sinks], () => (compiled && compiled.statements ? enginePlan(p, compiled.statements) : plan(p, sink)));
    status.set([p.state, p.offsets, p.lag], () => kv([
      ['State', stateBadge(p.state)],
      ['Committed offset', num(p.offsets.committed)],
      ['Read offset', num(p.offsets.read)],
      ['Stream end', num(p.offsets.stream_end)],
      ['Lag', `${num(p.lag.records)} records, ${duration(p.lag.seconds)}`],
      ['Last commit', p.last_commit ? `snapshot ${p.last_commit.snapshot_id}, ${ago(p.last_commit.committed_at)}` : 'none yet'],
      ['Created', time(p.created_at)],
    ]));
    errors.set(p.errors, () => (p.errors.length === 0 ? h('p', null, 'No error.') : h('ul', null, p.errors.map((e) => h('li', null, h('span', { class: 'error-text' }, e.message), ' ', h('span', { class: 'muted' }, time(e.at)))))));
  });
  if (sink && sink.type === 'iceberg') {
    ctx.every(5000, async () => {
      try {
        const t = await get(`/iceberg/v1/namespaces/${nsPath([sink.namespace])}/tables/${seg(sink.table)}`);
        const mine = (t.metadata.snapshots || []).filter((s) => s.summary && s.summary['dataplane.sink'] === sink.name).slice(-10).reverse();
        commits.set(mine.map((s) => s['snapshot-id']), () => {
          const table = dataTable({
            caption: null, label: 'Commits', pageSize: 10,
            columns: [
              { label: 'Snapshot', value: (s) => h('a', { href: `#/tables/${seg(sink.namespace)}/${seg(sink.table)}` }, String(s['snapshot-id'])) },
              { label: 'When', value: (s) => time(s['timestamp-ms']) },
              { label: 'Offsets', value: (s) => `${num(Number(s.summary['dataplane.start-offset']))}–${num(Number(s.summary['dataplane.end-offset']))}` },
              { label: 'Records', num: true, value: (s) => num(Number(s.summary['added-records'] || 0)) },
              { label: 'Files', num: true, value: (s) => num(Number(s.summary['added-data-files'] || 0)) },
            ],
            empty: h('p', null, 'No commit yet: the sink commits on its rolling policy, or use "Commit now".'),
          });
          table.set(mine);
          return table.el;
        });
      } catch (e) {
        commits.set(e.message, () => (e.status === 404
          ? h('p', null, `No commit yet: table ${sink.namespace}.${sink.table} is created when the pipeline starts.`)
          : failure(e, `Table ${sink.namespace}.${sink.table}`)));
      }
    });
  } else {
    commits.set('files', () => (p.last_commit
      ? kv([['Snapshot', String(p.last_commit.snapshot_id)], ['Offsets', `${num(p.last_commit.start_offset)}–${num(p.last_commit.end_offset)}`], ['Records', num(p.last_commit.records)], ['Files', num(p.last_commit.files)], ['When', time(p.last_commit.committed_at)]])
      : h('p', null, 'No commit yet.')));
  }
}

// One lane per INSERT statement: the stream, the engine's operators in the order records flow, and the sink with what
// it received and committed; the dead-letter sink last when the pipeline has one.
function enginePlan(p, statements) {
  const r = p.records || { in: null };
  const sinks = Object.fromEntries((p.sinks || []).map((k) => [k.name, k]));
  const dropped = p.dropped ? p.dropped.records : 0;
  const op = (kind, title, lines) => h('div', { class: 'op', role: 'listitem' }, h('div', { class: 'kind' }, kind), h('div', { class: 'name' }, title), lines ? h('div', { class: 'counts' }, lines) : null);
  const arrow = () => h('div', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  const source = () => op('source', h('a', { href: `#/streams/${seg(p.stream)}` }, `stream ${p.stream}`), [`out: ${num(r.in)} records`, h('br'), `offset ${num(p.offsets.read)} of ${num(p.offsets.stream_end)}`]);
  const sinkOp = (name, role) => {
    const k = sinks[name];
    return op(role, name, k ? [`in: ${num(k.records_out)} records`, h('br'), `committed to offset ${num(k.committed_offset)}`] : null);
  };
  const lanes = statements.map((st, i) => {
    // Nodes come in EXPLAIN's order (the sink first); records flow the other way. The scan is the source box.
    const operators = [...st.plan.nodes].reverse().filter((n) => !['Scan', 'Sink', 'Output'].includes(n.operator));
    const steps = [source()];
    for (const n of operators) steps.push(arrow(), op(n.operator.toLowerCase(), n.detail));
    steps.push(arrow(), sinkOp(st.sink, 'sink'));
    return h('div', { class: 'graph', role: 'list', 'aria-label': `Statement ${i + 1}: operators, in the order records flow` }, steps);
  });
  if (p.dead_letter)
    lanes.push(h('div', { class: 'graph', role: 'list', 'aria-label': 'Dropped records' },
      op('dropped', 'records a statement could not compute', [`${num(dropped)} records`]), arrow(), sinkOp(p.dead_letter, 'dead letters')));
  return lanes;
}

function plan(p, sink) {
  const sql = p.sql || '';
  const where = /\bwhere\b([\s\S]*)$/i.exec(sql);
  const select = /\bselect\b([\s\S]*?)\bfrom\b/i.exec(sql);
  const r = p.records || { in: null, out: null };
  const op = (kind, title, lines) => h('div', { class: 'op', role: 'listitem' }, h('div', { class: 'kind' }, kind), h('div', { class: 'name' }, title), h('div', { class: 'counts' }, lines));
  const arrow = () => h('div', { class: 'arrow', 'aria-hidden': 'true' }, '→');
  return h('div', { class: 'graph', role: 'list', 'aria-label': 'Operators, in the order records flow' },
    op('source', h('a', { href: `#/streams/${seg(p.stream)}` }, `stream ${p.stream}`), [`out: ${num(r.in)} records`, h('br'), `offset ${num(p.offsets.read)} of ${num(p.offsets.stream_end)}`]),
    arrow(),
    op('filter', where ? `WHERE ${where[1].trim()}` : 'no WHERE (every record)', [`in: ${num(r.in)}`, h('br'), `out: ${num(r.out)}`]),
    arrow(),
    op('project', select ? `SELECT ${select[1].trim()}` : 'SELECT', [`in: ${num(r.out)}`, h('br'), `out: ${num(r.out)}`]),
    arrow(),
    op('sink', sink ? (sink.type === 'iceberg' ? h('a', { href: `#/tables/${seg(sink.namespace)}/${seg(sink.table)}` }, `table ${sink.namespace}.${sink.table}`) : `files ${sink.path} (${sink.format})`) : p.sink,
      [`in: ${num(r.out)} records`, h('br'), `committed to offset ${num(p.offsets.committed)}`]),
  );
}

