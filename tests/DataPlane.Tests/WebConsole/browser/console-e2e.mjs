// Drives the console in headless Chromium (Debian's /usr/bin/chromium, playwright-core pinned in package.json) as a
// person would, against a running `dataplane serve`; ConsoleBrowserTests starts the server and checks the results.
// Input (environment): BASE (server URL), ADMIN_TOKEN, VIEWER_TOKEN, OUT (screenshots folder), CHROMIUM (optional).
// Output: one JSON document on stdout with what the pages showed and the page load times.
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const { BASE, ADMIN_TOKEN, VIEWER_TOKEN, OUT } = process.env;
const result = { screenshots: [], timings: {}, errors: [] };
const log = (...a) => process.stderr.write(a.join(' ') + '\n');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

async function session(token, { keyboard = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  opened.push(page);
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => result.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') result.errors.push(`console: ${m.text()}`); });
  await page.goto(BASE + '/#/streams');
  if (token && keyboard) {
    // Keyboard only: Tab from the top of the page to the Token button (past the skip link, the sections), Enter, type, Enter.
    let presses = 0;
    while (!(await page.evaluate(() => document.activeElement?.id === 'token-button'))) {
      if (++presses > 12) throw new Error('Tab never reached the Token button');
      await page.keyboard.press('Tab');
    }
    result.tabsToToken = presses;
    await page.keyboard.press('Enter');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('access-summary').textContent.startsWith('Token set'));
  } else if (token) {
    // As a person would: the Token button, type, Enter.
    await page.getByRole('button', { name: 'Token' }).click();
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByLabel('Token', { exact: true }).press('Enter');
    await page.waitForFunction(() => document.getElementById('access-summary').textContent.startsWith('Token set'));
  }
  return { context, page };
}

async function shot(page, name) {
  await page.waitForTimeout(300); // let the last poll's redraw and the charts settle
  const path = `${OUT}/${name}.png`;
  await page.screenshot({ path, fullPage: false });
  result.screenshots.push(path);
}

async function curl(body, token) {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', '-XPOST', `${BASE}/streams/orders`, '-H', 'content-type: application/json',
    '-H', `authorization: Bearer ${token}`, '-d', body]);
  const lines = stdout.trim().split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

const textOf = (page, selector) => page.locator(selector).first().innerText();

const opened = [];
try {
  await main();
} catch (e) {
  // What the page showed when a step failed, for the person reading the test's output.
  for (const [i, p] of opened.entries()) await p.screenshot({ path: `${OUT}/failure-${i}.png`, fullPage: true }).catch(() => {});
  log(`FAILED: ${e.stack}\nresult so far: ${JSON.stringify(result)}\npage text: ${await opened.at(-1)?.innerText('main').catch(() => '')}`);
  await browser.close();
  process.exit(1);
}

async function main() {
// 1. A managing token: the empty state, then the wizard: stream, sink, SQL with preview, deploy.
const admin = await session(ADMIN_TOKEN);
let page = admin.page;
await page.getByText('No streams yet').waitFor();
await shot(page, '01-streams-empty');
await page.locator('#create-button').click();
await page.locator('#stream-name').fill('orders');
await shot(page, '02-wizard-stream');
await page.locator('#stream-next').click();
await page.locator('#sink-next').waitFor();
await page.locator('#sink-partition').fill('day(ts), bucket(4, id)');
await shot(page, '03-wizard-sink');
await page.locator('#sink-next').click();
await page.locator('#pipeline-sql').waitFor();
// Compiled by the server as typed (the validate call): a wrong column is named with its line, column and a caret.
await page.locator('#pipeline-sql').fill('INSERT INTO orders_table SELECT id, ts, usr FROM orders');
await page.getByText('SQL error at line 1, column 41: there is no column "usr"; did you mean "user"?').waitFor();
result.validationDisabledDeploy = await page.locator('#deploy').isDisabled();
await page.locator('#pipeline-sql').fill('INSERT INTO orders_table SELECT * FROM orders WHERE id > 0');
await page.getByText('The SQL reads stream').waitFor();
result.plan = await page.locator('#sql-check pre').first().textContent();
// Records sent with curl, one request refused; the preview shows them before the pipeline exists.
result.curl = [];
result.curl.push(await curl('[{"id": 1, "ts": "2026-11-25T10:00:00Z", "user": "ada"}, {"id": 2, "ts": "2026-11-24T09:30:00Z", "user": "bob"}]', ADMIN_TOKEN));
result.curl.push(await curl('{"id": 3, "ts": "2026-11-25T11:00:00Z", "user": null}\n{"id": 4, "ts": "2026-11-26T08:15:00.5Z", "user": "cy"}', ADMIN_TOKEN));
result.curl.push(await curl('[{"id": "five", "user": "dan"}]', ADMIN_TOKEN));
await page.waitForFunction(() => document.getElementById('preview-count')?.textContent.startsWith('4 '));
// The SQL's own output over those records (WHERE id > 0 keeps all 4): the validate call's preview.
await page.getByText('INSERT INTO orders_table: 4 rows').waitFor();
result.previewOutput = await page.locator('#preview-output').innerText();
await shot(page, '04-wizard-sql-preview');
await page.locator('#deploy').click();
await page.waitForURL(/#\/pipelines\/orders_pipeline$/);
await page.getByRole('heading', { name: 'Pipeline orders_pipeline' }).waitFor();
await page.getByRole('button', { name: 'Commit now (flush)' }).click();
const committed = await page.getByText(/Committed snapshot \d+/).innerText();
result.flushedSnapshot = /Committed snapshot (\d+)/.exec(committed)[1];
await page.getByRole('cell', { name: result.flushedSnapshot }).waitFor(); // recent commits, from the table
const lane = page.getByRole('list', { name: 'Statement 1: operators, in the order records flow' });
await lane.getByText('committed to offset 4').waitFor();
result.pipelinePlan = await lane.innerText();
await shot(page, '05-pipeline');

// 2. The stream: the throughput chart with points, and the rejected request's reason.
await page.goto(BASE + '/#/streams/orders');
await page.getByRole('heading', { name: 'Stream orders' }).waitFor();
await page.waitForFunction(() => [...document.querySelectorAll('figure .hint')].some((p) => /records in: peak (0\.\d*[1-9]|[1-9])/.test(p.textContent)));
result.chart = await page.evaluate(() => [...document.querySelectorAll('figure')].map((f) => ({
  title: f.querySelector('figcaption').textContent,
  summary: f.querySelector('.hint').textContent,
  canvas: !!f.querySelector('canvas'),
  legend: [...f.querySelectorAll('.u-legend .u-label')].map((l) => l.textContent),
})));
await page.getByRole('cell', { name: 'invalid records' }).waitFor();
result.rejection = await page.locator('table.data', { hasText: 'Latest rejected requests' }).locator('tbody tr').first().innerText();
await shot(page, '06-stream');

// 3. The table: the flushed snapshot in the timeline, and the first rows.
await page.goto(BASE + '/#/tables');
await page.getByRole('link', { name: 'default', exact: true }).waitFor();
await shot(page, '07-tables-namespaces');
await page.getByRole('link', { name: 'default', exact: true }).click();
await page.getByRole('link', { name: 'orders', exact: true }).waitFor();
await shot(page, '08-tables-namespace');
await page.getByRole('link', { name: 'orders', exact: true }).click();
const timeline = page.locator('ol.timeline');
await timeline.getByText(`snapshot ${result.flushedSnapshot}`).waitFor();
result.timeline = await timeline.innerText();
const rowsPanel = page.locator('section', { has: page.getByRole('heading', { name: 'First rows' }) });
await rowsPanel.locator('tbody tr').nth(3).waitFor();
result.tableRows = await rowsPanel.locator('table.data').evaluate((t) => {
  const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent);
  return [...t.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries([...tr.children].map((td, i) => [heads[i], td.textContent])));
});
// Its maintenance: the settings, and a run queued through the API shows in the runs table with its outcome.
const queued = await fetch(`${BASE}/api/v1/tables/default/orders/maintenance/run`, {
  method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ jobs: ['expire-snapshots'], dry_run: true }),
});
result.maintenanceQueued = queued.status;
const maintenancePanel = page.locator('section', { has: page.getByRole('heading', { name: 'Maintenance', exact: true }) });
await maintenancePanel.locator('tbody tr', { hasText: 'dry-run' }).waitFor({ timeout: 30000 });
result.maintenance = await maintenancePanel.innerText();
await shot(page, '09-table');
await maintenancePanel.scrollIntoViewIfNeeded();
await shot(page, '09-table-maintenance');
await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
await shot(page, '10-table-files-rows');

// 4. Databases (a query shows its bookmark and which copy served it) and slurp jobs.
await page.goto(BASE + '/#/databases');
await page.getByRole('link', { name: 'app', exact: true }).click();
await page.getByRole('cell', { name: 'app-r1' }).waitFor();
await page.locator('#db-sql').fill('SELECT 40 + 2 AS answer');
await page.locator('#db-session').selectOption('first-unconstrained');
await page.getByRole('button', { name: 'Run' }).click();
await page.getByRole('cell', { name: '42' }).waitFor();
result.query = await page.locator('section', { has: page.getByRole('heading', { name: 'Query' }) }).locator('dl.kv').innerText();
await page.getByRole('cell', { name: '42' }).scrollIntoViewIfNeeded();
await shot(page, '11-database');
await page.goto(BASE + '/#/databases');
await page.getByRole('link', { name: 'app', exact: true }).waitFor();
await shot(page, '12-databases');
await page.goto(BASE + '/#/slurp');
await page.getByRole('link', { name: 'backup', exact: true }).click();
await page.getByText('Failures (dead-letter list)').waitFor();
await page.getByText(/ETA/).waitFor();
await shot(page, '13-slurp-job');
await page.goto(BASE + '/#/slurp');
await page.getByRole('link', { name: 'backup', exact: true }).waitFor();
await shot(page, '14-slurp');
await page.goto(BASE + '/#/pipelines');
await page.getByRole('link', { name: 'orders_pipeline' }).waitFor();
await shot(page, '15-pipelines');
await page.goto(BASE + '/#/streams');
await page.getByRole('link', { name: 'orders' }).waitFor();
await shot(page, '16-streams');

// 5. A read-only token: no create or delete buttons, and the API refuses what it would do anyway.
const viewer = await session(VIEWER_TOKEN, { keyboard: true });
const v = viewer.page;
await v.getByRole('link', { name: 'orders' }).waitFor();
result.viewer = {
  summary: await textOf(v, '#access-summary'),
  createButtons: await v.getByText('Create pipeline').count(),
};
await shot(v, '17-viewer-streams');
await v.goto(BASE + '/#/streams/orders');
await v.getByRole('heading', { name: 'Stream orders' }).waitFor();
result.viewer.deleteButtons = await v.getByRole('button', { name: /Delete/ }).count();
await v.goto(BASE + '/#/pipelines/orders_pipeline');
await v.getByRole('heading', { name: 'Pipeline orders_pipeline' }).waitFor();
result.viewer.pipelineButtons = await v.getByRole('button', { name: /Delete|flush/ }).count();
await v.goto(BASE + '/#/create');
result.viewer.wizard = await v.locator('.notice.error').innerText();
result.viewer.refused = await v.evaluate(async (token) => {
  const attempt = async (method, path, body) => {
    const r = await fetch(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    return { status: r.status, body: await r.text() };
  };
  return {
    createStream: await attempt('POST', '/api/v1/streams', JSON.stringify({ name: 'sneaky', schema: { fields: [{ name: 'id', type: 'long' }] } })),
    deletePipeline: await attempt('DELETE', '/api/v1/pipelines/orders_pipeline'),
    dropTable: await attempt('DELETE', '/iceberg/v1/namespaces/default/tables/orders'),
  };
}, VIEWER_TOKEN);
await viewer.context.close();

// 6. Page loads with 100 streams, 100 pipelines and 1,000 tables, from a warm server.
await page.evaluate(async (token) => {
  const call = async (method, path, body) => {
    const r = await fetch(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    if (!r.ok && r.status !== 409) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  };
  const pool = async (n, work) => { let i = 0; await Promise.all(Array.from({ length: 8 }, async () => { while (i < n) await work(i++); })); };
  await pool(99, (i) => call('POST', '/api/v1/streams', { name: `s${String(i).padStart(3, '0')}`, schema: { fields: [{ name: 'id', type: 'long' }] } }));
  await pool(99, (i) => call('POST', '/api/v1/sinks', { name: `k${String(i).padStart(3, '0')}`, type: 'iceberg', namespace: 'load', table: `t${i}` }));
  await pool(99, (i) => call('POST', '/api/v1/pipelines', { name: `p${String(i).padStart(3, '0')}`, sql: `INSERT INTO k${String(i).padStart(3, '0')} SELECT * FROM s${String(i).padStart(3, '0')}` }));
  for (let n = 0; n < 10; n++) await call('POST', '/iceberg/v1/namespaces', { namespace: [`ns${n}`] });
  const schema = { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', type: 'long', required: true }] };
  // With orders and the 99 sinks' tables (made as their pipelines start), 1,000 tables.
  await pool(900, (i) => call('POST', `/iceberg/v1/namespaces/ns${i % 10}/tables`, { name: `t${String(i).padStart(4, '0')}`, schema }));
}, ADMIN_TOKEN);
const counts = await page.evaluate(async (token) => {
  const get = async (p) => (await fetch(p, { headers: { authorization: `Bearer ${token}` } })).json();
  let tables = 0;
  for (const ns of (await get('/iceberg/v1/namespaces')).namespaces) tables += (await get(`/iceberg/v1/namespaces/${ns.join('\u001f')}/tables`)).identifiers.length;
  return { streams: (await get('/api/v1/streams')).streams.length, pipelines: (await get('/api/v1/pipelines')).pipelines.length, tables };
}, ADMIN_TOKEN);
result.loadCounts = counts;

const loads = [
  ['streams', '/#/streams', 'table.data tbody tr:nth-child(50)'],
  ['pipelines', '/#/pipelines', 'table.data tbody tr:nth-child(50)'],
  ['tables (namespaces)', '/#/tables', 'a[href="#/tables/ns9"]'],
  ['tables of a namespace', '/#/tables/ns3', 'ul.link-grid li:nth-child(90)'],
  ['table', '/#/tables/default/orders', 'ol.timeline li'],
  ['stream', '/#/streams/orders', 'section[aria-label="Recent records"] tbody tr'],
  ['pipeline', '/#/pipelines/orders_pipeline', '.graph .op'],
  ['databases', '/#/databases', 'table.data tbody tr'],
  ['slurp jobs', '/#/slurp', 'table.data tbody tr'],
];
for (const [name, path, selector] of loads) {
  const times = [];
  for (let i = 0; i < 4; i++) {
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(BASE + path);
    await page.locator(selector).first().waitFor();
    times.push(Date.now() - t0);
  }
  // The first is the warm-up; the rest are a warm server's.
  const warm = times.slice(1).sort((a, b) => a - b);
  result.timings[name] = { first_ms: times[0], warm_median_ms: warm[1], warm_max_ms: warm[2] };
  log(`load ${name}: ${JSON.stringify(result.timings[name])}`);
}
await page.goto(BASE + '/#/streams');
await page.locator('table.data tbody tr:nth-child(50)').waitFor();
await shot(page, '18-streams-100');
await page.goto(BASE + '/#/tables/ns3');
await page.locator('ul.link-grid li:nth-child(90)').waitFor();
await shot(page, '19-tables-namespace-100');

await admin.context.close();
await browser.close();
process.stdout.write(JSON.stringify(result));
}
