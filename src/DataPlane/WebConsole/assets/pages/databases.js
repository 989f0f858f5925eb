// Databases: the list, and one database's primary and replicas, replication lag, and a query box that shows the
// bookmark of each answer and which copy served it.
import { get, api, seg } from '../api.js';
import { h, num, time, panel, kv, empty, dataTable, holder, pageHead, badge, codeBlock } from '../ui.js';
import { timeChart } from '../charts.js';
import { failure, cell } from './common.js';

export async function list(main, ctx) {
  main.append(pageHead('Databases', 'SQLite databases with read replicas; sessions keep their order through bookmarks.'));
  const error = holder();
  const table = dataTable({
    label: 'Databases',
    columns: [
      { label: 'Name', value: (d) => h('a', { href: `#/databases/${seg(d.name)}` }, d.name) },
      { label: 'Replicas', num: true, value: (d) => num(d.replicas) },
      { label: 'Primary position', num: true, value: (d) => num(d.position) },
      { label: 'Bookmark', value: (d) => (d.bookmark ? h('code', null, d.bookmark) : '–') },
    ],
    empty: empty('No databases yet',
      h('p', null, 'A database is a SQLite primary with read replicas, queried over HTTP at /db/NAME/query.'),
      codeBlock(`curl -s -XPOST ${location.origin}/api/v1/databases -H 'content-type: application/json' -d '{"name":"app","replicas":2}'`, 'create-database command')),
  });
  main.append(error.el, panel('All databases', table.el));
  ctx.every(3000, async () => {
    try { const r = await get('/api/v1/databases'); error.set('', () => null); table.set(r.databases); }
    catch (e) { error.set(e.message, () => failure(e, 'Listing databases')); }
  });
}

export async function detail(main, ctx, name) {
  const crumbs = [h('a', { href: '#/databases' }, 'Databases'), ' / ', name];
  main.append(pageHead(`Database ${name}`, `Queries: POST /db/${name}/query`, null, crumbs));
  const replicas = holder(h('p', { class: 'loading' }, 'Loading…'));
  const chart = timeChart('Replication lag', { note: 'Sampled every 2 s while this page is open, last 5 minutes.', series: [{ label: 'lag', unit: 'ms' }], windowSeconds: 300 });
  let lagChart = null;
  const chartBox = h('div', null);
  ctx.onLeave(() => { chart.destroy(); if (lagChart) lagChart.destroy(); });
  const samples = { t: [], byReplica: {} };

  const sql = h('textarea', { id: 'db-sql', rows: '4', spellcheck: 'false' }, 'SELECT name FROM sqlite_master WHERE type = \'table\'');
  const session = h('select', { id: 'db-session' },
    h('option', { value: 'first-primary' }, 'the primary (first-primary)'),
    h('option', { value: 'first-unconstrained' }, 'any copy (first-unconstrained)'),
    h('option', { value: 'bookmark' }, 'any copy at least as new as the last answer (bookmark)'));
  const result = holder();
  let lastBookmark = null;
  const run = h('button', { type: 'submit' }, 'Run');
  const form = h('form', { class: 'stack', 'aria-label': 'Query' },
    h('label', { for: 'db-sql' }, 'SQL'), sql,
    h('label', { for: 'db-session' }, 'Read from'), session,
    h('p', { class: 'hint' }, 'Statements run as one request; writes go to the primary. Refused statements (ATTACH, PRAGMA writes...) come back with the reason.'),
    h('div', { class: 'row' }, run));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    run.disabled = true;
    const header = session.value === 'bookmark' ? (lastBookmark || 'first-unconstrained') : session.value;
    try {
      const r = await api('POST', `/db/${seg(name)}/query`, { body: { sql: sql.value }, headers: { 'X-DataPlane-Bookmark': header }, raw: true });
      const bookmark = r.headers.get('X-DataPlane-Bookmark') || r.json.bookmark;
      lastBookmark = bookmark;
      result.set(`r-${Date.now()}`, () => queryResult(r.json, bookmark, header));
    } catch (e) { result.set(`e-${Date.now()}`, () => failure(e, 'Query')); }
    finally { run.disabled = false; }
  });

  main.append(
    panel('Primary and replicas', replicas.el),
    panel('Query', form, result.el),
    h('section', { class: 'panel', 'aria-label': 'Replication lag' }, chartBox));
  chartBox.append(chart.el);

  ctx.every(2000, async () => {
    let r;
    try { r = await get(`/db/${seg(name)}/replicas`); } catch (e) { replicas.set(e.message, () => failure(e, 'Replicas')); return; }
    const now = Date.now() / 1000;
    samples.t.push(now);
    for (const rep of r.replicas) (samples.byReplica[rep.id] ||= []);
    for (const [id, arr] of Object.entries(samples.byReplica)) {
      const rep = r.replicas.find((x) => x.id === id);
      arr.push(rep && rep.lag_ms != null ? rep.lag_ms : null);
      while (arr.length > samples.t.length) arr.shift();
    }
    while (samples.t.length && samples.t[0] < now - 300) { samples.t.shift(); for (const arr of Object.values(samples.byReplica)) arr.shift(); }
    const ids = Object.keys(samples.byReplica);
    if (ids.length && (!lagChart || lagChart.ids !== ids.join())) {
      if (lagChart) lagChart.destroy();
      lagChart = timeChart('Replication lag per replica', { windowSeconds: 300, note: 'Sampled every 2 s while this page is open, last 5 minutes.', series: ids.map((id) => ({ label: id, unit: 'ms' })) });
      lagChart.ids = ids.join();
      chartBox.replaceChildren(lagChart.el);
    }
    if (lagChart) lagChart.set(samples.t, ...ids.map((id) => samples.byReplica[id]));
    else chart.set([], []);
    replicas.set(r, () => [
      kv([['Primary position', num(r.primary_position)], ['Primary bookmark', r.bookmark ? h('code', null, r.bookmark) : '–']]),
      (() => {
        const t = dataTable({
          label: 'Replicas', pageSize: 20,
          columns: [
            { label: 'Replica', value: (x) => x.id },
            { label: 'Kind', value: (x) => h('span', { class: 'nowrap' }, x.kind) },
            { label: 'Applied position', num: true, value: (x) => num(x.applied_position) },
            { label: 'Behind (positions)', num: true, value: (x) => num(x.lag_positions) },
            { label: 'Lag', num: true, value: (x) => (x.lag_ms == null ? '–' : `${x.lag_ms} ms`) },
            { label: 'p99 lag', num: true, value: (x) => (x.lag_p99_ms == null ? '–' : `${x.lag_p99_ms} ms`) },
            { label: 'Last seen', value: (x) => time(x.last_seen) },
          ],
          empty: h('p', null, 'No replica: every query is served by the primary.'),
        });
        t.set(r.replicas);
        return t.el;
      })(),
    ]);
  });
}

function queryResult(json, bookmark, sent) {
  const meta = json.meta || {};
  const parts = [kv([
    ['Served by', badge(meta.served_by || '–', meta.served_by === 'primary' ? 'info' : 'ok')],
    ['Bookmark', bookmark ? h('code', null, bookmark) : '–'],
    ['Session sent', h('code', null, sent)],
    ['Duration', meta.duration != null ? `${meta.duration} ms` : '–'],
  ])];
  (json.results || []).forEach((r, i) => {
    const t = dataTable({
      caption: `Statement ${i + 1}: ${num(r.rows.length)} rows${r.meta && r.meta.rows_written ? `, ${num(r.meta.rows_written)} written` : ''}`,
      pageSize: 20,
      columns: r.columns.map((c, j) => ({ label: c, value: (row) => cell(row[j]) })),
    });
    t.set(r.rows);
    parts.push(r.columns.length ? t.el : h('p', null, `Statement ${i + 1}: ${num(r.meta ? r.meta.rows_written : 0)} rows written.`));
  });
  return parts;
}
