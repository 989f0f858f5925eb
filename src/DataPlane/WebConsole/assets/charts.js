// Time-series charts with uPlot (vendor/uplot, MIT): every chart has a time axis, labelled value axes with units,
// a legend, and visible points, so a few samples show as well as many.
import { h, rate, bytes } from './ui.js';

const palette = ['#0b57a4', '#b3401f', '#17663a', '#6b3fa0', '#8a4b00'];

function formatter(unit) {
  if (unit === 'bytes/s') return (v) => bytes(v) + '/s';
  if (unit === 'bytes') return (v) => bytes(v);
  return (v) => `${rate(v)} ${unit}`;
}

/** Axis tick text: the number alone (the axis label carries the unit); byte sizes keep theirs. */
function tick(unit) {
  if (unit === 'bytes/s' || unit === 'bytes') return (v) => bytes(v);
  return (v) => (v !== 0 && Math.abs(v) < 10 ? String(Number(v.toPrecision(2))) : rate(v));
}

/**
 * Makes the plot (make(width)) once the box is shown with a width, then keeps the plot as wide as the box.
 * Returns the observer, for destroy() to disconnect.
 */
function fitToBox(box, height, plotOf, make) {
  const ro = new ResizeObserver(() => {
    const width = Math.max(320, Math.floor(box.clientWidth));
    const plot = plotOf();
    if (!plot) { if (box.isConnected && box.clientWidth > 0) make(width); }
    else if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height });
  });
  ro.observe(box);
  return ro;
}

/**
 * chart(title, {series: [{label, unit, axis: 'left'|'right'}], windowSeconds}) -> {el, set(times, ...values)}
 * times in epoch seconds; values per series, null for no sample.
 */
export function timeChart(title, { series, windowSeconds = 900, height = 230, yRange, note } = {}) {
  const id = 'c-' + Math.random().toString(36).slice(2, 9);
  const box = h('div', { class: 'chart', role: 'img', 'aria-labelledby': id });
  const summary = h('p', { class: 'hint', 'aria-live': 'off' });
  const el = h('figure', { class: 'chart-figure', style: null }, h('figcaption', { class: 'chart-title', id }, title), box, summary);
  el.style.margin = '0';
  let plot = null;
  let pending = null;
  const units = [...new Set(series.map((s) => s.unit))];
  const scaleOf = (s) => (s.axis === 'right' ? 'right' : 'left');
  const leftUnit = series.find((s) => scaleOf(s) === 'left')?.unit;
  const rightUnit = series.find((s) => scaleOf(s) === 'right')?.unit;

  function make(width) {
    if (!window.uPlot) { box.replaceChildren(h('p', { class: 'chart-empty' }, 'The chart library did not load.')); return; }
    // An empty scale still gets whole ticks: 0 to 1 (or 0 to 1 KiB for bytes).
    const range = (unit) => (u, min, max) => yRange ? yRange(min, max) : [0, max > 0 ? max * 1.15 : (unit && unit.startsWith('bytes') ? 1024 : 1)];
    const axes = [
      { label: 'time (local)', labelSize: 20, stroke: '#1b2027', grid: { stroke: '#e3e7ed' }, ticks: { stroke: '#c5ccd6' } },
      { scale: 'left', label: leftUnit, labelSize: 22, size: 70, stroke: '#1b2027', grid: { stroke: '#e3e7ed' }, ticks: { stroke: '#c5ccd6' },
        values: (u, ticks) => ticks.map(tick(leftUnit)) },
    ];
    if (rightUnit) axes.push({ scale: 'right', side: 1, label: rightUnit, labelSize: 22, size: 80, stroke: '#1b2027', grid: { show: false },
      values: (u, ticks) => ticks.map(tick(rightUnit)) });
    plot = new window.uPlot({
      width, height,
      scales: {
        x: { time: true, range: (u, min, max) => { const now = Date.now() / 1000; return [now - windowSeconds, now]; } },
        left: { range: range(leftUnit) },
        ...(rightUnit ? { right: { range: range(rightUnit) } } : {}),
      },
      series: [
        { label: 'time', value: (u, v) => v == null ? '–' : new Date(v * 1000).toLocaleTimeString() },
        ...series.map((s, i) => ({
          label: `${s.label} (${s.unit})`, scale: scaleOf(s), stroke: s.color || palette[i % palette.length], width: 2,
          points: { show: true, size: 4, fill: s.color || palette[i % palette.length] }, spanGaps: false,
          value: (u, v) => v == null ? '–' : formatter(s.unit)(v),
        })),
      ],
      axes,
      legend: { live: true },
      cursor: { focus: { prox: 16 } },
    }, [[], ...series.map(() => [])], box);
    if (pending) plot.setData(pending);
  }

  const ro = fitToBox(box, height, () => plot, make);

  return {
    el,
    set(times, ...values) {
      pending = [times, ...values];
      const points = times.length;
      const sampled = values.some((v) => v.some((x) => x != null));
      summary.textContent = (note ? note + ' ' : '') + (points === 0 || !sampled ? 'No samples yet in this window.'
        : series.map((s, i) => {
          const v = values[i].filter((x) => x != null);
          const last = v.length ? v[v.length - 1] : null;
          const peak = v.length ? Math.max(...v) : null;
          return `${s.label}: peak ${peak == null ? '–' : formatter(s.unit)(peak)}, latest ${last == null ? '–' : formatter(s.unit)(last)}`;
        }).join('; ') + ` (${points} points).`);
      if (plot) plot.setData(pending);
    },
    destroy() { ro.disconnect(); if (plot) plot.destroy(); },
    units,
  };
}

/** A bar chart over labelled buckets (a distribution): barChart(title, {unit, xLabel}) -> {el, set(labels, counts)}. */
export function barChart(title, { unit, xLabel, height = 200 } = {}) {
  const id = 'c-' + Math.random().toString(36).slice(2, 9);
  const box = h('div', { class: 'chart', role: 'img', 'aria-labelledby': id });
  const summary = h('p', { class: 'hint' });
  const el = h('figure', null, h('figcaption', { class: 'chart-title', id }, title), box, summary);
  el.style.margin = '0 0 10px';
  let plot = null;
  let labels = [];
  let data = null;
  function make(width) {
    if (!window.uPlot) return;
    plot = new window.uPlot({
      width, height,
      scales: { x: { time: false, range: (u, min, max) => [-0.6, Math.max(labels.length - 0.4, 0.4)] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] } },
      series: [
        { label: xLabel, value: (u, v) => (v == null ? '–' : labels[v] ?? '') },
        { label: `${unit}`, stroke: '#0b57a4', fill: 'rgba(11,87,164,0.35)', width: 1, paths: window.uPlot.paths.bars({ size: [0.7, 80] }), points: { show: false } },
      ],
      axes: [
        { label: xLabel, labelSize: 20, stroke: '#1b2027', grid: { show: false }, splits: () => labels.map((_, i) => i), values: () => labels },
        { label: unit, labelSize: 22, size: 60, stroke: '#1b2027', grid: { stroke: '#e3e7ed' }, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
      ],
      legend: { show: false },
    }, data || [[], []], box);
  }
  const ro = fitToBox(box, height, () => plot, make);
  return {
    el,
    set(newLabels, counts) {
      labels = newLabels;
      data = [newLabels.map((_, i) => i), counts];
      const total = counts.reduce((a, b) => a + b, 0);
      summary.textContent = total === 0 ? 'No data files yet.' : newLabels.map((l, i) => `${l}: ${counts[i]}`).join(', ');
      if (plot) { plot.setData(data); plot.redraw(); }
    },
    destroy() { ro.disconnect(); if (plot) plot.destroy(); },
  };
}
