// plots.js: the QC report's per-second series, one small uPlot chart each,
// with the black, freeze and silence segments shaded behind the line.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { html, clock, num } from './common.js';

// What each known series is; an unknown key still gets a chart, titled by it.
// `span`: the least height of the y axis, so a flat line looks flat instead
// of noise blown up; `zero`: the axis starts at 0.
const SERIES = {
  luma: { title: 'Luma', unit: '8-bit code value', zero: true, span: 255 },
  motion: { title: 'Motion', unit: 'mean luma difference', zero: true, span: 10 },
  loudness_momentary: { title: 'Loudness (momentary)', unit: 'LUFS', span: 12 },
  range_outside: { title: 'Outside the legal range', unit: '% of samples', scale: 100, zero: true, span: 1 },
  bit_rate: { title: 'Bit rate', unit: 'kb/s', zero: true, span: 100 },
};

function yRange(info) {
  return (u, min, max) => {
    if (min == null || max == null) return [0, 1];
    let lo = info.zero ? Math.min(0, min) : min;
    let hi = max;
    const want = info.span || 1;
    if (hi - lo < want) {
      const mid = (hi + lo) / 2;
      lo = info.zero ? lo : mid - want / 2;
      hi = info.zero ? lo + want : mid + want / 2;
    }
    const pad = (hi - lo) * 0.05;
    return [info.zero && lo >= 0 ? lo : lo - pad, hi + pad];
  };
}

// x ticks on whole seconds, minutes, hours: the series has one value a second.
const SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200];

// The y axis as wide as its longest label.
const axisSize = (u, values) => (values ? Math.max(36, Math.max(...values.map((v) => String(v).length)) * 7 + 18) : 36);

// Segment kinds: where they are in the report, and their CSS colour variable.
const BANDS = [
  { kind: 'black', label: 'black', get: (qc) => qc.video && qc.video.black_segments },
  { kind: 'freeze', label: 'frozen', get: (qc) => qc.video && qc.video.freeze_segments },
  { kind: 'silence', label: 'silent', get: (qc) => qc.audio && qc.audio.silence_segments },
];

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// The scheme the page is in: charts are drawn again with its colours.
function useScheme() {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const m = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return dark;
}

export function Plots({ qc }) {
  const dark = useScheme();
  const series = Object.entries((qc && qc.series) || {}).filter(([, v]) => Array.isArray(v) && v.length > 0);
  if (!series.length) return html`<p class="muted">No per-second series in this report.</p>`;
  const bands = BANDS.map((b) => ({ ...b, segments: (b.get(qc) || []).filter((s) => s.end > s.start) }));
  const shown = bands.filter((b) => b.segments.length);
  return html`
    <div>
      ${shown.length > 0 &&
      html`<p class="band-legend">
        ${shown.map(
          (b) => html`<span><i class=${`swatch band-${b.kind}`} aria-hidden="true"></i>${b.label}: ${b.segments
              .map((s) => `${clock(s.start, 1)}–${clock(s.end, 1)}`)
              .join(', ')}</span>`,
        )}
      </p>`}
      <div class="plots">
        ${series.map(([key, values]) => html`<${Chart} key=${`${key}-${dark}`} name=${key} values=${values} bands=${shown} />`)}
      </div>
    </div>
  `;
}

function Chart({ name, values, bands }) {
  const box = useRef(null);
  const info = SERIES[name] || { title: name.replace(/_/g, ' '), unit: '' };
  const scale = info.scale || 1;
  // The document is fetched again on every event about the video: draw
  // again only when what is drawn changed.
  const drawn = useMemo(() => JSON.stringify([values, bands.map((b) => [b.kind, b.segments])]), [values, bands]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = values.map((_, i) => i);
    // null (no measure that second) and non-finite values are gaps.
    const ys = values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v * scale : null));
    const fg = css('--muted');
    const grid = css('--grid');
    const line = css('--accent');
    const fills = Object.fromEntries(bands.map((b) => [b.kind, css(`--band-${b.kind}`)]));
    const opts = {
      width: Math.max(el.clientWidth, 200),
      height: 150,
      legend: { show: false },
      cursor: { sync: { key: 'qc' }, drag: { x: false, y: false } },
      scales: { x: { time: false, range: (u, min, max) => [0, Math.max(max, 1)] }, y: { range: yRange(info) } },
      axes: [
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, incrs: SECOND_STEPS, values: (u, ticks) => ticks.map((t) => clock(t)), size: 28 },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: axisSize },
      ],
      series: [{}, { label: info.title, stroke: line, width: 1.5, points: { show: values.length < 3 }, spanGaps: false }],
      hooks: {
        // Shade the segments before the line is drawn over them.
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            for (const b of bands) {
              ctx.fillStyle = fills[b.kind];
              for (const s of b.segments) {
                const x0 = u.valToPos(s.start, 'x', true);
                const x1 = u.valToPos(s.end, 'x', true);
                const left = Math.max(x0, bbox.left);
                const right = Math.min(x1, bbox.left + bbox.width);
                if (right > left) ctx.fillRect(left, bbox.top, right - left, bbox.height);
              }
            }
            ctx.restore();
          },
        ],
      },
    };
    const u = new uPlot(opts, [xs, ys], el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 200);
      if (w !== u.width) u.setSize({ width: w, height: 150 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
  }, [drawn, scale]);

  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  const summary = finite.length
    ? `${info.title}: ${values.length} seconds, from ${num(Math.min(...finite) * scale)} to ${num(Math.max(...finite) * scale)} ${info.unit}`
    : `${info.title}: no values`;
  return html`
    <figure class="plot" data-testid=${`plot-${name}`} data-points=${values.length}>
      <figcaption>${info.title} ${info.unit && html`<span class="muted">(${info.unit})</span>`}</figcaption>
      <div class="chart" ref=${box} role="img" aria-label=${summary}></div>
    </figure>
  `;
}
