// Slurp jobs: every job journal the server can see, with progress, objects and bytes per second, ETA, failures and
// the dead-letter list (objects that failed every attempt).
import { get, seg } from '../api.js';
import { h, num, bytes, time, duration, panel, kv, empty, dataTable, holder, pageHead, stateBadge, codeBlock } from '../ui.js';
import { timeChart } from '../charts.js';
import { failure } from './common.js';

function progressBar(done, total) {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)), 'aria-label': 'Bytes copied' }, h('span'));
  bar.firstChild.style.width = `${pct}%`;
  return h('div', { class: 'row' }, bar, h('span', { class: 'nowrap' }, `${Math.round(pct)}%`));
}

const newcomer = () => empty('No slurp jobs yet',
  h('p', null, 'A slurp job copies objects between folders or S3-compatible stores, verified and resumable. Jobs run from the command line; their journals show here while they run and after.'),
  codeBlock('dataplane slurp --from ./data/warehouse --to ./backup', 'slurp command'));

export async function list(main, ctx) {
  main.append(pageHead('Slurp jobs', 'Bulk copies between object stores, from their journals.'));
  const error = holder();
  const where = holder();
  const table = dataTable({
    label: 'Slurp jobs',
    columns: [
      { label: 'Job', value: (j) => h('a', { href: `#/slurp/${seg(j.job_id)}` }, j.job_id) },
      { label: 'State', value: (j) => stateBadge(j.state) },
      { label: 'From', wrap: true, value: (j) => j.source },
      { label: 'To', wrap: true, value: (j) => j.destination },
      { label: 'Progress', value: (j) => progressBar(j.bytes_copied, j.bytes_total) },
      { label: 'Objects', num: true, value: (j) => `${num(j.objects.copied + j.objects.skipped_existing)} of ${num(j.total_objects)}` },
      { label: 'Failed', num: true, value: (j) => num(j.objects.dead) },
      { label: 'Started', value: (j) => time(j.run_started_at) },
    ],
    empty: newcomer(),
  });
  main.append(error.el, panel('Jobs', where.el, table.el));
  ctx.every(2000, async () => {
    try {
      const r = await get('/api/v1/slurp/jobs');
      error.set('', () => null);
      where.set(r.journal_directory, () => h('p', { class: 'hint' }, 'Journals in ', h('code', null, r.journal_directory), '.'));
      table.set(r.jobs);
    } catch (e) { error.set(e.message, () => failure(e, 'Listing slurp jobs')); }
  });
}

export async function detail(main, ctx, id) {
  const crumbs = [h('a', { href: '#/slurp' }, 'Slurp jobs'), ' / ', id];
  main.append(pageHead(`Slurp job ${id}`, null, null, crumbs));
  const summary = holder(h('p', { class: 'loading' }, 'Loading…'));
  const dead = holder();
  const chart = timeChart('Objects and bytes per second', { windowSeconds: 300, note: 'Sampled every 2 s while this page is open, last 5 minutes; rates show from the second sample on.',
    series: [{ label: 'objects', unit: 'objects/s' }, { label: 'bytes', unit: 'bytes/s', axis: 'right' }],
  });
  ctx.onLeave(() => chart.destroy());
  const samples = { t: [], objects: [], bytes: [] };
  let previous = null;
  main.append(h('div', { class: 'grid' },
    panel('Progress', summary.el),
    h('section', { class: 'panel', 'aria-label': 'Rates' }, chart.el),
    h('section', { class: 'panel wide', 'aria-label': 'Dead letters' }, h('h2', null, 'Failures (dead-letter list)'), dead.el)));
  ctx.every(2000, async () => {
    let j;
    try { j = await get(`/api/v1/slurp/jobs/${seg(id)}`); } catch (e) { summary.set(e.message, () => failure(e, `Job ${id}`)); return; }
    const now = Date.now() / 1000;
    const objectsDone = j.objects.copied + j.objects.skipped_existing;
    let oRate = null; let bRate = null;
    if (previous) {
      const dt = Math.max(0.001, now - previous.t);
      oRate = Math.max(0, (objectsDone - previous.objects) / dt);
      bRate = Math.max(0, (j.bytes_copied - previous.bytes) / dt);
    }
    previous = { t: now, objects: objectsDone, bytes: j.bytes_copied };
    samples.t.push(now); samples.objects.push(oRate); samples.bytes.push(bRate);
    chart.set(samples.t, samples.objects, samples.bytes);
    const rateForEta = bRate && bRate > 0 ? bRate : j.bytes_per_second;
    const eta = j.finished_at ? 'finished' : rateForEta > 0 ? duration(j.bytes_remaining / rateForEta) : 'unknown until bytes move';
    summary.set([j.state, j.bytes_copied, j.objects, eta], () => [
      progressBar(j.bytes_copied, j.bytes_total),
      kv([
        ['State', stateBadge(j.state)], ['From', j.source], ['To', j.destination], ['Run', num(j.run)],
        ['Listing', j.listing_complete ? 'complete' : 'still listing'],
        ['Bytes', `${bytes(j.bytes_copied)} of ${bytes(j.bytes_total)} (${bytes(j.bytes_remaining)} to go)`],
        ['Average rate', `${bytes(j.bytes_per_second)}/s`],
        ['ETA', eta],
        ['Objects', Object.entries(j.objects).filter(([, n]) => n > 0).map(([k, n]) => `${num(n)} ${k.replace(/_/g, ' ')}`).join(', ') || 'none listed yet'],
        ['Started', time(j.run_started_at)], ['Finished', j.finished_at ? time(j.finished_at) : '–'],
      ]),
    ]);
    dead.set(j.failures, () => {
      const t = dataTable({
        label: 'Dead letters', pageSize: 20,
        columns: [
          { label: 'Key', wrap: true, value: (f) => h('code', null, f.key) },
          { label: 'Attempts', num: true, value: (f) => num(f.attempts) },
          { label: 'Last error', value: (f) => f.error },
        ],
        empty: h('p', null, 'No failure: every object listed so far was copied or skipped on purpose.'),
      });
      t.set(j.failures);
      return t.el;
    });
  });
}
