// The create wizard: stream -> sink -> SQL. The stream and sink are made when their step is confirmed, so records
// can be sent and previewed before the pipeline is deployed; the server compiles the SQL as it is typed (the validate
// call) and checks it again on deploy.
import { get, post, seg } from '../api.js';
import { h, panel, holder, pageHead, notice, codeBlock, empty, num } from '../ui.js';
import { failure, recordsTable, typeText } from './common.js';
import { curlExample } from './streams.js';

const TYPES = ['long', 'int', 'string', 'double', 'float', 'boolean', 'timestamptz', 'timestamp', 'date', 'time', 'uuid', 'decimal(10,2)', 'binary'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export async function wizard(main, ctx) {
  main.append(pageHead('Create a pipeline', 'Three steps: the stream records arrive on, the sink they land in, and the SQL between them.', null,
    [h('a', { href: '#/pipelines' }, 'Pipelines'), ' / ', 'Create']));
  if (!ctx.canManagePipelines) {
    main.append(notice('error', 'This token may not create streams, sinks or pipelines (it is read-only, ingest-only, or none). Give the console a managing token with the Token button.'));
    return;
  }
  const stepsList = h('ol', { class: 'steps', 'aria-label': 'Steps' }, h('li', null, '1. Stream'), h('li', null, '2. Sink'), h('li', null, '3. SQL and preview'));
  const body = h('div');
  main.append(stepsList, body);
  const state = { stream: null, sink: null };
  const wanted = new URLSearchParams(location.hash.split('?')[1] || '').get('stream');

  const mark = (i) => [...stepsList.children].forEach((li, j) => {
    li.className = j < i ? 'done' : '';
    if (j === i) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  });

  async function streamStep() {
    mark(0);
    const existing = (await get('/api/v1/streams')).streams.filter((s) => s.state !== 'failed');
    const err = holder();
    const useExisting = h('input', { type: 'radio', name: 'stream-mode', id: 'stream-existing', value: 'existing', checked: existing.length > 0 });
    const useNew = h('input', { type: 'radio', name: 'stream-mode', id: 'stream-new', value: 'new', checked: existing.length === 0 });
    const pick = h('select', { id: 'stream-pick', 'aria-label': 'Existing stream' }, existing.map((s) => h('option', { value: s.name }, s.name)));
    if (wanted && existing.some((s) => s.name === wanted)) pick.value = wanted;
    const name = h('input', { type: 'text', id: 'stream-name', value: 'events', autocomplete: 'off' });
    const fields = h('tbody');
    const addField = (n = '', t = 'string', req = false) => {
      const i = fields.children.length;
      const row = h('tr', null,
        h('td', null, h('input', { type: 'text', value: n, 'aria-label': `Field ${i + 1} name`, class: 'f-name' })),
        h('td', null, h('select', { 'aria-label': `Field ${i + 1} type`, class: 'f-type' }, TYPES.map((x) => h('option', { value: x }, x)))),
        h('td', null, h('input', { type: 'checkbox', 'aria-label': `Field ${i + 1} required`, class: 'f-req', checked: req })),
        h('td', null, h('button', { type: 'button', class: 'small secondary', 'aria-label': `Remove field ${i + 1}`, onclick: () => row.remove() }, 'Remove')));
      row.querySelector('.f-type').value = t;
      fields.append(row);
    };
    addField('id', 'long', true); addField('ts', 'timestamptz'); addField('user', 'string');
    const newBox = h('fieldset', null, h('legend', null, 'New stream'),
      h('label', { for: 'stream-name' }, 'Name'), name,
      h('p', { class: 'hint' }, 'Letters, digits and _, starting with a letter or _. Records are posted to /streams/NAME.'),
      h('table', { class: 'data' }, h('caption', null, 'Fields'), h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Type'), h('th', null, 'Required'), h('th', null, h('span', { class: 'muted' }, 'Remove')))), fields),
      h('p', null, h('button', { type: 'button', class: 'secondary small', onclick: () => addField() }, 'Add field')));
    const next = h('button', { type: 'submit', id: 'stream-next' }, 'Next: sink');
    const form = h('form', { class: 'stack', 'aria-label': 'Stream' },
      existing.length ? h('fieldset', null, h('legend', null, 'Stream'),
        h('div', { class: 'row' }, useExisting, h('label', { for: 'stream-existing' }, 'Use an existing stream'), pick),
        h('div', { class: 'row' }, useNew, h('label', { for: 'stream-new' }, 'Create a new stream'))) : null,
      newBox, err.el, next);
    const sync = () => { newBox.hidden = !useNew.checked; pick.disabled = !useExisting.checked; };
    useExisting.addEventListener('change', sync); useNew.addEventListener('change', sync); sync();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (useExisting.checked && existing.length) { state.stream = existing.find((s) => s.name === pick.value); return sinkStep(); }
      const rows = [...fields.children].map((r) => ({ name: r.querySelector('.f-name').value.trim(), type: r.querySelector('.f-type').value, required: r.querySelector('.f-req').checked }));
      const problems = [];
      if (!NAME.test(name.value.trim())) problems.push(`The stream name '${name.value}' must be letters, digits and _, starting with a letter or _.`);
      if (rows.length === 0) problems.push('Give the stream at least one field.');
      rows.forEach((r, i) => { if (!NAME.test(r.name)) problems.push(`Field ${i + 1}: '${r.name}' is not a valid name.`); });
      if (problems.length) { err.set(problems, () => notice('error', problems.join(' '))); return; }
      next.disabled = true;
      try {
        state.stream = await post('/api/v1/streams', { name: name.value.trim(), schema: { fields: rows } });
        sinkStep();
      } catch (e) { err.set(`${e.message}${Date.now()}`, () => failure(e, 'Creating the stream')); next.disabled = false; }
    });
    body.replaceChildren(panel('1. Stream', form));
    (existing.length ? useExisting : name).focus();
  }

  async function sinkStep() {
    mark(1);
    const existing = (await get('/api/v1/sinks')).sinks.filter((s) => s.state !== 'failed');
    const err = holder();
    const useExisting = h('input', { type: 'radio', name: 'sink-mode', id: 'sink-existing', value: 'existing', checked: false });
    const useNew = h('input', { type: 'radio', name: 'sink-mode', id: 'sink-new', value: 'new', checked: true });
    const pick = h('select', { id: 'sink-pick', 'aria-label': 'Existing sink' }, existing.map((s) => h('option', { value: s.name }, `${s.name} (${s.type === 'iceberg' ? `table ${s.namespace}.${s.table}` : `files ${s.path}`})`)));
    const sinkName = h('input', { type: 'text', id: 'sink-name', value: `${state.stream.name}_table`, autocomplete: 'off' });
    const type = h('select', { id: 'sink-type' }, h('option', { value: 'iceberg' }, 'Iceberg table'), h('option', { value: 'files' }, 'Raw files'));
    const ns = h('input', { type: 'text', id: 'sink-namespace', value: 'default' });
    const table = h('input', { type: 'text', id: 'sink-table', value: state.stream.name });
    const fields = state.stream.schema ? state.stream.schema.fields : [];
    const ts = fields.find((f) => typeText(f.type).startsWith('timestamp') || f.type === 'date');
    const partition = h('input', { type: 'text', id: 'sink-partition', value: ts ? `day(${ts.name})` : '' });
    const path = h('input', { type: 'text', id: 'sink-path', value: `raw/${state.stream.name}` });
    const format = h('select', { id: 'sink-format' }, h('option', { value: 'parquet' }, 'Parquet'), h('option', { value: 'ndjson' }, 'NDJSON'));
    const icebergBox = h('div', null,
      h('label', { for: 'sink-namespace' }, 'Namespace'), ns,
      h('label', { for: 'sink-table' }, 'Table'), table,
      h('label', { for: 'sink-partition' }, 'Partition (optional)'), partition,
      h('p', { class: 'hint' }, 'Comma-separated Iceberg transforms such as day(ts), bucket(16, id), identity(user). The table is created when the pipeline starts.'));
    const filesBox = h('div', null, h('label', { for: 'sink-path' }, 'Path in the warehouse'), path, h('label', { for: 'sink-format' }, 'Format'), format);
    const newBox = h('fieldset', null, h('legend', null, 'New sink'),
      h('label', { for: 'sink-name' }, 'Name'), sinkName, h('label', { for: 'sink-type' }, 'Kind'), type, icebergBox, filesBox);
    const next = h('button', { type: 'submit', id: 'sink-next' }, 'Next: SQL');
    const back = h('button', { type: 'button', class: 'secondary', onclick: () => streamStep() }, 'Back');
    const form = h('form', { class: 'stack', 'aria-label': 'Sink' },
      h('p', null, 'Stream: ', h('strong', null, state.stream.name)),
      existing.length ? h('fieldset', null, h('legend', null, 'Sink'),
        h('div', { class: 'row' }, useExisting, h('label', { for: 'sink-existing' }, 'Use an existing sink'), pick),
        h('div', { class: 'row' }, useNew, h('label', { for: 'sink-new' }, 'Create a new sink'))) : null,
      newBox, err.el, h('div', { class: 'row' }, back, next));
    const sync = () => { newBox.hidden = !useNew.checked; pick.disabled = !useExisting.checked; icebergBox.hidden = type.value !== 'iceberg'; filesBox.hidden = type.value !== 'files'; };
    [useExisting, useNew, type].forEach((x) => x.addEventListener('change', sync)); sync();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (useExisting.checked && existing.length) { state.sink = existing.find((s) => s.name === pick.value); return sqlStep(); }
      const def = type.value === 'iceberg'
        ? { name: sinkName.value.trim(), type: 'iceberg', namespace: ns.value.trim(), table: table.value.trim(), partition: partition.value.split(/,(?![^(]*\))/).map((x) => x.trim()).filter(Boolean) }
        : { name: sinkName.value.trim(), type: 'files', path: path.value.trim(), format: format.value };
      next.disabled = true;
      try { state.sink = await post('/api/v1/sinks', def); sqlStep(); }
      catch (e) { err.set(`${e.message}${Date.now()}`, () => failure(e, 'Creating the sink')); next.disabled = false; }
    });
    body.replaceChildren(panel('2. Sink', form));
    sinkName.focus();
  }

  function sqlStep() {
    mark(2);
    const s = state.stream; const k = state.sink;
    const pname = h('input', { type: 'text', id: 'pipeline-name', value: `${s.name}_pipeline`, autocomplete: 'off' });
    const sql = h('textarea', { id: 'pipeline-sql', rows: '5', spellcheck: 'false', 'aria-describedby': 'sql-check' }, `INSERT INTO ${k.name} SELECT * FROM ${s.name}`);
    const check = h('div', { id: 'sql-check', 'aria-live': 'polite' });
    const err = holder();
    const deploy = h('button', { type: 'submit', id: 'deploy' }, 'Deploy pipeline');
    const back = h('button', { type: 'button', class: 'secondary', onclick: () => sinkStep() }, 'Back');
    const preview = holder(h('p', { class: 'loading' }, 'Loading…'));
    // The server compiles the SQL against the stream as typed (POST /api/v1/pipelines/validate): each statement's
    // output columns and plan, or the error with its line, column and caret. Only the latest answer is shown.
    let asked = 0;
    const validate = async () => {
      const mine = ++asked;
      deploy.disabled = true;
      let answer;
      try {
        answer = await post('/api/v1/pipelines/validate', { sql: sql.value });
      } catch (e) {
        if (mine !== asked) return;
        check.replaceChildren(e.status === 400 || e.status === 404
          ? h('pre', { class: 'error-text', id: 'sql-error' }, e.message)
          : failure(e, 'Checking the SQL'));
        return;
      }
      if (mine !== asked) return;
      const sinks = answer.statements.map((st) => st.sink);
      check.replaceChildren(h('div', { class: 'stack' },
        h('p', { class: 'hint' }, '✓ The SQL reads stream ', h('code', null, answer.stream), ' and writes ',
          sinks.flatMap((name, i) => [i > 0 ? ', ' : '', h('code', null, name)]), '. The server checks it again on deploy.'),
        answer.statements.map((st) => h('div', { class: 'statement' },
          h('p', null, 'INSERT INTO ', h('strong', null, st.sink), ': ', st.schema.map((c) => `${c.name} ${typeText(c.type)}`).join(', ')),
          h('pre', { class: 'code', 'aria-label': `Plan of INSERT INTO ${st.sink}` }, st.explain))),
        sinks.includes(k.name) ? null : h('p', { class: 'hint' }, 'No statement writes ', h('code', null, k.name), ', the sink of step 2.')));
      deploy.disabled = false;
    };
    let timer = null;
    sql.addEventListener('input', () => { deploy.disabled = true; clearTimeout(timer); timer = setTimeout(validate, 250); });
    const form = h('form', { class: 'stack', 'aria-label': 'SQL' },
      h('p', null, 'Stream ', h('strong', null, s.name), ' → sink ', h('strong', null, k.name)),
      h('label', { for: 'pipeline-name' }, 'Pipeline name'), pname,
      h('label', { for: 'pipeline-sql' }, 'SQL'), sql,
      h('p', { class: 'hint' }, 'One or more INSERT INTO sink SELECT ... FROM stream statements, separated by ; (one per sink): functions, CAST, CASE, WHERE, UNNEST... as in the README\'s SQL section.'),
      check, err.el, h('div', { class: 'row' }, back, deploy));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      deploy.disabled = true;
      try {
        const p = await post('/api/v1/pipelines', { name: pname.value.trim(), sql: sql.value });
        ctx.go(`#/pipelines/${seg(p.name)}`);
      } catch (e) { err.set(`${e.message}${Date.now()}`, () => failure(e, 'The server refused the pipeline')); deploy.disabled = false; }
    });
    body.replaceChildren(h('div', { class: 'grid' },
      panel('3. SQL', form),
      panel('Preview', h('p', { class: 'hint' }, 'The stream\'s most recent records, and the rows the SQL makes of them, before anything is deployed.'),
        s.endpoint ? [h('p', null, 'Send a few records to see them here:'), codeBlock(curlExample(s), 'curl example')] : null,
        preview.el)));
    validate();
    pname.focus();
    ctx.every(2000, async () => {
      try {
        // The recent records, and what the SQL makes of them (the validate call's preview; nothing is deployed).
        const [r, v] = await Promise.all([
          get(`/api/v1/streams/${seg(s.name)}/records?limit=20`),
          post('/api/v1/pipelines/validate', { sql: sql.value, preview: 20 }).catch(() => null)]);
        preview.set({ r, v }, () => [
          h('p', { class: 'hint', id: 'preview-count' }, `${num(r.records.length)} most recent records.`),
          recordsTable(r.records, null, empty('No records yet', h('p', null, 'Nothing has been sent to this stream yet; send records with the command above.'))),
          v && r.records.length ? h('div', { id: 'preview-output' }, v.statements.map((st) => [
            h('h3', null, 'INSERT INTO ', h('code', null, st.sink), `: ${num(st.preview.length)} rows`),
            recordsTable(st.preview, `Output of INSERT INTO ${st.sink}`, h('p', { class: 'hint' }, 'No rows: the SQL keeps none of these records.'))])) : null,
          v && v.preview.dropped.length ? h('p', { class: 'error-text', id: 'preview-dropped' },
            v.preview.dropped.map((d) => `${num(d.records)} dropped (${d.reason}): ${d.samples[d.samples.length - 1] || d.description}`).join('; ')) : null]);
      } catch (e) { preview.set(e.message, () => failure(e, 'Preview')); }
    });
  }

  await streamStep();
}
