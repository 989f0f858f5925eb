// What several pages share: refusals shown with the next step, field types, schema tables.
import { h, notice, dataTable } from '../ui.js';

/** A refused or failed call, with what to do about it. */
export function failure(e, what) {
  const text = what ? `${what}: ${e.message}` : e.message;
  const box = notice('error', text);
  if (e.status === 401) box.append(h('p', null, 'Give the console a token with the Token button at the top right.'));
  if (e.status === 403) box.append(h('p', null, 'This token may not do that; the server refused it.'));
  return box;
}

export function typeText(type) {
  if (typeof type === 'string') return type;
  if (!type || typeof type !== 'object') return String(type);
  if (type.type === 'struct') return `struct<${(type.fields || []).map((f) => `${f.name}: ${typeText(f.type)}`).join(', ')}>`;
  if (type.type === 'list') return `list<${typeText(type.element ?? type['element'])}>`;
  if (type.type === 'map') return `map<${typeText(type.key)}, ${typeText(type.value)}>`;
  return JSON.stringify(type);
}

/** Iceberg or stream schema fields as a table: id (when known), name, type, required. */
export function schemaTable(fields, caption) {
  const withIds = fields.some((f) => f.id !== undefined);
  const t = dataTable({
    caption,
    label: caption || 'Schema',
    pageSize: 100,
    columns: [
      ...(withIds ? [{ label: 'Field id', num: true, value: (f) => String(f.id) }] : []),
      { label: 'Name', value: (f) => h('code', null, f.name) },
      { label: 'Type', value: (f) => typeText(f.type) },
      { label: 'Required', value: (f) => (f.required ? 'yes' : 'no') },
      ...(fields.some((f) => f.doc) ? [{ label: 'Doc', value: (f) => f.doc || '' }] : []),
    ],
  });
  t.set(fields);
  return t.el;
}

/** Records (objects) as a table with one column per key, values as JSON text where they are not plain. */
export function recordsTable(records, caption, emptyNode) {
  const keys = [];
  for (const r of records) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const t = dataTable({
    caption, label: caption || 'Records', pageSize: 20, empty: emptyNode,
    columns: keys.map((k) => ({ label: k, value: (r) => cell(r[k]) })),
  });
  t.set(records);
  return t.el;
}

export function cell(v) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, 'null');
  if (typeof v === 'object') return h('code', null, JSON.stringify(v));
  return String(v);
}
