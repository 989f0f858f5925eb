// The console's shell: hash routes, what the token may do (GET /api/v1/access), and polling that stops when a page
// is left or the tab is hidden.
import { get, token, setToken } from './api.js';
import { h, notice } from './ui.js';
import * as streams from './pages/streams.js';
import * as pipelines from './pages/pipelines.js';
import * as tables from './pages/tables.js';
import * as databases from './pages/databases.js';
import * as slurp from './pages/slurp.js';
import * as create from './pages/create.js';

const routes = [
  [/^\/streams$/, 'streams', streams.list],
  [/^\/streams\/([^/]+)$/, 'streams', streams.detail],
  [/^\/pipelines$/, 'pipelines', pipelines.list],
  [/^\/pipelines\/([^/]+)$/, 'pipelines', pipelines.detail],
  [/^\/create$/, 'pipelines', create.wizard],
  [/^\/tables$/, 'tables', tables.namespaces],
  [/^\/tables\/([^/]+)$/, 'tables', tables.namespace],
  [/^\/tables\/([^/]+)\/([^/]+)$/, 'tables', tables.table],
  [/^\/databases$/, 'databases', databases.list],
  [/^\/databases\/([^/]+)$/, 'databases', databases.detail],
  [/^\/slurp$/, 'slurp', slurp.list],
  [/^\/slurp\/([^/]+)$/, 'slurp', slurp.detail],
];

const main = document.getElementById('main');
let access = { pipelines: 'none', catalog: 'none', databases: 'none', metrics: false };
let current = null;

async function loadAccess() {
  try { access = await get('/api/v1/access'); }
  catch { access = { pipelines: 'none', catalog: 'none', databases: 'none', metrics: false }; }
  const parts = [];
  const say = { manage: 'manage', read: 'read only', ingest: 'ingest only', write: 'read and write', none: 'no access' };
  parts.push(`Pipelines: ${say[access.pipelines]}`, `Catalog: ${say[access.catalog]}`);
  document.getElementById('access-summary').textContent = (token() ? 'Token set. ' : 'No token. ') + parts.join(' · ');
}

/** What a page gets: the access, polling that ends with the page, and navigation. */
function context() {
  const timers = [];
  const cleanups = [];
  let alive = true;
  return {
    access,
    canManagePipelines: access.pipelines === 'manage',
    canWriteCatalog: access.catalog === 'write',
    canManageDatabases: access.databases === 'manage',
    /** Runs fn now and every ms while the page is shown and the tab visible; never two at once. */
    every(ms, fn) {
      let busy = false;
      const tick = async () => {
        if (!alive || busy || document.hidden) return;
        busy = true;
        try { await fn(); } catch (e) { console.error(e); } finally { busy = false; }
      };
      tick();
      timers.push(setInterval(tick, ms));
    },
    onLeave(fn) { cleanups.push(fn); },
    get alive() { return alive; },
    go(hash) { location.hash = hash; },
    end() { alive = false; timers.forEach(clearInterval); cleanups.forEach((f) => { try { f(); } catch { /* leaving anyway */ } }); },
  };
}

async function route() {
  const path = ((location.hash || '#/streams').slice(1) || '/streams').split('?')[0];
  if (current) current.end();
  const ctx = context();
  current = ctx;
  let match = null;
  for (const [re, section, page] of routes) {
    const m = path.match(re);
    if (m) { match = { section, page, params: m.slice(1).map(decodeURIComponent) }; break; }
  }
  document.querySelectorAll('header nav a').forEach((a) => {
    if (match && a.dataset.section === match.section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  main.replaceChildren();
  if (!match) {
    main.append(notice('error', `There is no page ${path}.`), h('p', null, h('a', { href: '#/streams' }, 'Go to the streams')));
    return;
  }
  try {
    await match.page(main, ctx, ...match.params);
  } catch (e) {
    if (ctx.alive) main.append(notice('error', e.message));
  }
  if (ctx.alive) {
    const heading = main.querySelector('h1');
    document.title = heading ? `${heading.textContent} · DataPlane console` : 'DataPlane console';
  }
}

function setupToken() {
  const dialog = document.getElementById('token-dialog');
  const input = document.getElementById('token-input');
  document.getElementById('token-button').addEventListener('click', () => { input.value = token(); dialog.showModal(); input.focus(); });
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue === 'save') setToken(input.value.trim());
    else if (dialog.returnValue === 'forget') setToken('');
    else return;
    input.value = '';
    await loadAccess();
    route();
  });
}

window.addEventListener('hashchange', () => { route(); main.focus({ preventScroll: true }); });
setupToken();
await loadAccess();
await route();
