// common.js: the html tag, formatting and small pieces every view uses.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

export const STATES = [
  'awaiting_metadata',
  'queued',
  'processing',
  'retry_wait',
  'processed',
  'rejected',
  'unable_to_process',
];

// States whose video was filed, so it may have pictures and outputs.
export const FILED = new Set(['processed', 'rejected', 'unable_to_process']);
// States POST /api/videos/{id}/retry accepts.
export const RETRYABLE = new Set(['retry_wait', 'rejected', 'unable_to_process']);

export const stateLabel = (s) => (s ? s.replace(/_/g, ' ') : '');

export function StateBadge({ state }) {
  return html`<span class="badge state-${state}" data-testid="state-badge" data-state=${state}>${stateLabel(state)}</span>`;
}

export function VerdictBadge({ verdict }) {
  if (!verdict) return null;
  return html`<span class="badge verdict-${verdict}" data-testid="verdict">${verdict}</span>`;
}

const numberFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
export const num = (n) => (n == null || Number.isNaN(n) ? '—' : numberFmt.format(n));

export function bytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// Seconds as m:ss or h:mm:ss (a clock, as players show it); with
// `decimals`, fractions of a second too (segment bounds).
export function clock(sec, decimals = 0) {
  if (sec == null || !Number.isFinite(sec)) return '';
  const f = 10 ** decimals;
  const s = Math.round(Math.max(0, sec) * f) / f;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = (s % 60).toFixed(decimals);
  const ss = r.padStart(decimals ? decimals + 3 : 2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

// A span of seconds in words: "850 ms", "4.2 s", "3 min 5 s".
export function span(sec) {
  if (sec == null || !Number.isFinite(sec)) return '—';
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const join = (a, ua, b, ub) => (b ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`);
  if (sec < 3600) return join(Math.floor(sec / 60), 'min', Math.round(sec % 60), 's');
  return join(Math.floor(sec / 3600), 'h', Math.round((sec % 3600) / 60), 'min');
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export function ago(iso) {
  if (!iso) return '';
  const d = (Date.parse(iso) - Date.now()) / 1000;
  const a = Math.abs(d);
  if (a < 45) return rtf.format(Math.round(d), 'second');
  if (a < 2700) return rtf.format(Math.round(d / 60), 'minute');
  if (a < 64800) return rtf.format(Math.round(d / 3600), 'hour');
  return rtf.format(Math.round(d / 86400), 'day');
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const when = (iso) => (iso ? dateFmt.format(new Date(iso)) : '—');

// One clock for every relative time on the page, so "5 seconds ago" does
// not stay so on a quiet page.
const tickers = new Set();
let ticking = null;
function useTick(ms = 20000) {
  const [, setT] = useState(0);
  useEffect(() => {
    const f = () => setT((t) => t + 1);
    tickers.add(f);
    if (!ticking) ticking = setInterval(() => tickers.forEach((g) => g()), ms);
    return () => {
      tickers.delete(f);
      if (!tickers.size) ticking = clearInterval(ticking) || null;
    };
  }, []);
}

// A time shown relative, with the exact one on hover and for machines.
export function Time({ iso }) {
  useTick();
  if (!iso) return html`<span>—</span>`;
  return html`<time datetime=${iso} title=${when(iso)}>${ago(iso)}</time>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  const code = error.code && !String(error.code).startsWith('http_') ? ` (${error.code})` : '';
  return html`<p class="error" role="alert">${error.message || String(error)}${code}</p>`;
}

// The duration in a video's probe, when there is one (the document's, or a
// summary's should the list ever carry it).
export function probeDuration(v) {
  const d = v && v.probe && v.probe.format && v.probe.format.duration;
  return typeof d === 'number' ? d : typeof v?.duration === 'number' ? v.duration : null;
}
