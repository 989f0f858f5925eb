// Small DOM helpers: every value from the server goes in as text (never as HTML).

/** h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

const nf = new Intl.NumberFormat('en-US');
export const num = (n) => (n === null || n === undefined || Number.isNaN(n)) ? '–' : nf.format(n);

export function rate(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n >= 100) return nf.format(Math.round(n));
  return (Math.round(n * 10) / 10).toString();
}

export function bytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  n = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toString() : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
}

/** A time (ISO text or epoch milliseconds) as local date and time. */
export function time(t) {
  if (t === null || t === undefined || t === '') return '–';
  const d = typeof t === 'number' ? new Date(t) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function ago(t) {
  if (t === null || t === undefined) return '–';
  const ms = Date.now() - (typeof t === 'number' ? t : new Date(t).getTime());
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

export function badge(text, kind) { return h('span', { class: `badge ${kind || 'info'}` }, text); }

export function stateBadge(state) {
  const kind = ['running', 'ready', 'ok', 'finished', 'done', 'completed'].includes(state) ? 'ok'
    : ['failed', 'error', 'dead'].includes(state) ? 'bad' : 'warn';
  return badge(state || 'unknown', kind);
}

export function panel(title, ...children) {
  const id = 'p-' + Math.random().toString(36).slice(2, 9);
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export function kv(pairs) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    dl.append(h('dt', null, k), h('dd', null, v === null ? '–' : v));
  }
  return dl;
}

/** A newcomer's next step: what is missing and the command or button that makes it. */
export function empty(title, ...children) {
  return h('div', { class: 'empty', role: 'status' }, h('h2', null, title), ...children);
}

export function notice(kind, text) { return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text); }

export function codeBlock(text, label) {
  const pre = h('pre', { class: 'code', tabindex: '0', 'aria-label': label || 'Command' }, text);
  const button = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Copy ${label || 'command'}` }, 'Copy');
  button.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(text); button.textContent = 'Copied'; }
    catch { const r = document.createRange(); r.selectNodeContents(pre); const s = getSelection(); s.removeAllRanges(); s.addRange(r); button.textContent = 'Selected'; }
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  });
  return h('div', { class: 'code-block' }, pre, button);
}

export function link(href, text) { return h('a', { href }, text); }

/**
 * A table that keeps its place while the page polls: set(rows) redraws the body only when the rows changed, and the
 * pager (pageSize rows a page) stays where the person left it.
 */
export function dataTable({ caption, columns, empty: emptyNode, pageSize = 50, label }) {
  const thead = h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))));
  const tbody = h('tbody');
  const table = h('table', { class: 'data' }, caption ? h('caption', null, caption) : null, thead, tbody);
  const status = h('span', { 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'small secondary' }, 'Previous');
  const next = h('button', { type: 'button', class: 'small secondary' }, 'Next');
  const pager = h('div', { class: 'pager', role: 'navigation', 'aria-label': `${label || caption || 'Table'} pages` }, prev, next, status);
  const emptyHolder = h('div');
  const scroll = h('div', { class: 'table-scroll' }, table);
  const el = h('div', null, scroll, pager, emptyHolder);
  let rows = [];
  let page = 0;
  let signature = null;
  function draw() {
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    page = Math.min(page, pages - 1);
    const slice = rows.slice(page * pageSize, (page + 1) * pageSize);
    tbody.replaceChildren(...slice.map((r) => h('tr', null, columns.map((c) => {
      const v = c.value(r);
      return h('td', { class: [c.num ? 'num' : '', c.wrap ? 'wrap' : ''].join(' ').trim() || null }, v === null || v === undefined ? '–' : v);
    }))));
    scroll.hidden = rows.length === 0 && !!emptyNode;
    emptyHolder.replaceChildren(rows.length === 0 && emptyNode ? emptyNode : h('span'));
    pager.hidden = rows.length <= pageSize;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    status.textContent = rows.length ? `${page * pageSize + 1}–${Math.min(rows.length, (page + 1) * pageSize)} of ${num(rows.length)}` : '';
  }
  prev.addEventListener('click', () => { page--; draw(); });
  next.addEventListener('click', () => { page++; draw(); });
  return {
    el,
    set(newRows, sig) {
      const s = sig !== undefined ? sig : JSON.stringify(newRows);
      if (s === signature) return;
      signature = s;
      rows = newRows;
      draw();
    },
  };
}

/** Replaces a holder's content only when its signature changed (so polling does not steal focus or selection). */
export function holder(initial) {
  const el = h('div', null, initial || null);
  let signature = null;
  return {
    el,
    set(sig, build) {
      const s = typeof sig === 'string' ? sig : JSON.stringify(sig);
      if (s === signature) return;
      signature = s;
      const content = build();
      el.replaceChildren(...(Array.isArray(content) ? content : [content]).filter(Boolean));
    },
  };
}

export function pageHead(title, subtitle, actions, crumbs) {
  return h('div', null,
    crumbs ? h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, crumbs) : null,
    h('div', { class: 'page-head' },
      h('div', null, h('h1', null, title), subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
      actions && actions.length ? h('div', { class: 'actions' }, actions) : null));
}
