// header.js: the fleet at a glance (GET /api/stats) and the alarms firing
// now (GET /api/alarms), reloaded after live events and every 15 s.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { getJSON } from '../api.js';
import { useDebounced, useLive, useLiveStatus } from '../live.js';
import { html, STATES, stateLabel, num, ago, when, span } from './common.js';

const LIVE_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' };

export function Header({ activeState }) {
  const [stats, setStats] = useState(null);
  const [alarms, setAlarms] = useState([]);
  const [error, setError] = useState(null);
  const live = useLiveStatus();

  const load = useCallback(async () => {
    try {
      const [s, a] = await Promise.all([getJSON('/api/stats'), getJSON('/api/alarms')]);
      setStats(s);
      setAlarms(a.alarms || []);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    load();
    const t = setInterval(load, 15000);
    return () => clearInterval(t);
  }, [load]);

  // Bursts of events (a batch landing) come down to one reload.
  const reload = useDebounced(load, 400);
  useLive(reload);

  const hour = stats && stats.last_hour;
  return html`
    <header class="top">
      <div class="bar">
        <h1 class="brand"><a href="#/">vidgate</a></h1>
        <span class="live live-${live}" role="status" data-testid="live-status" data-status=${live}>
          <span class="dot" aria-hidden="true"></span>${LIVE_TEXT[live] || live}
        </span>
        ${error && html`<span class="error small" role="alert">stats: ${error.message}</span>`}
      </div>
      <nav class="counts" aria-label="Videos per state">
        <a class=${`count${!activeState ? ' active' : ''}`} href="#/" data-testid="count-total" data-count=${stats ? stats.total : ''} aria-current=${!activeState ? 'true' : undefined}>
          <span class="n">${stats ? num(stats.total) : '…'}</span><span class="label">all</span>
        </a>
        ${STATES.map(
          (s) => html`
            <a
              class=${`count count-${s}${activeState === s ? ' active' : ''}${stats && stats.videos[s] ? '' : ' zero'}`}
              href=${`#/?state=${s}`}
              data-testid=${`count-${s}`}
              data-count=${stats ? stats.videos[s] : ''}
              aria-current=${activeState === s ? 'true' : undefined}
            >
              <span class="n">${stats ? num(stats.videos[s]) : '…'}</span><span class="label">${stateLabel(s)}</span>
            </a>
          `,
        )}
      </nav>
      ${hour &&
      html`
        <p class="hour" data-testid="last-hour">
          <span>Last hour:</span>
          <span><b data-testid="throughput">${num(hour.processed)}</b> processed</span>
          <span><b>${num(hour.rejected)}</b> rejected</span>
          <span><b>${num(hour.failed_attempts)}</b> failed attempts</span>
          <span class=${hour.failure_ratio > 0.1 ? 'bad' : ''}>
            failure ratio <b data-testid="failure-ratio">${num(hour.failure_ratio * 100)} %</b>
          </span>
          <span><b>${num(stats.workers_busy)}</b> busy</span>
          ${stats.oldest_queued_seconds > 0 && html`<span>oldest queued <b>${span(stats.oldest_queued_seconds)}</b></span>`}
          ${stats.outbox_backlog > 0 && html`<span><b>${num(stats.outbox_backlog)}</b> notifications pending</span>`}
        </p>
      `}
    </header>
    ${alarms.length > 0 &&
    html`
      <section class="alarms" aria-label="Alarms firing">
        ${alarms.map(
          (a) => html`
            <div class=${`alarm alarm-${a.severity}`} role="alert" data-testid="alarm" data-name=${a.name} data-severity=${a.severity}>
              <strong>${a.severity === 'critical' ? 'Critical' : 'Warning'}: ${a.name}</strong>
              <span>
                ${a.metric.replace(/_/g, ' ')} is <b>${num(a.value)}</b> (above ${num(a.above)}${a.window_seconds ? ` over ${span(a.window_seconds)}` : ''})
              </span>
              <span class="since">since <time datetime=${a.since} title=${when(a.since)}>${ago(a.since)}</time></span>
            </div>
          `,
        )}
      </section>
    `}
  `;
}
