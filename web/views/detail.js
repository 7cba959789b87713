// detail.js: one video's whole story (GET /api/videos/{id}): the player and
// seek strip, the quality report and its plots, the attempts, the outputs,
// the metadata, and a Retry button; reloaded as its events come in.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJSON, postJSON, listVideos, videoPath } from '../api.js';
import { useDebounced, useLive } from '../live.js';
import {
  html, FILED, RETRYABLE, stateLabel, StateBadge, VerdictBadge, Time, ErrorNote, bytes, clock, span, when, num, probeDuration,
} from './common.js';
import { Player, outputPath, outputUrl } from './player.js';
import { QcSummary, Checks } from './qc.js';
import { Plots } from './plots.js';

export function Detail({ id }) {
  const [doc, setDoc] = useState(null);
  const [error, setError] = useState(null);
  const [activity, setActivity] = useState([]); // live messages about this video and its re-run
  const [rerun, setRerun] = useState(null); // {since, id, state} once Retry re-ran it
  const rerunRef = useRef(null);
  rerunRef.current = rerun;

  const load = useCallback(async () => {
    try {
      const d = await getJSON(videoPath(id));
      setDoc(d);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [id]);

  useEffect(() => {
    setDoc(null);
    setActivity([]);
    setRerun(null);
    load();
  }, [load]);

  useEffect(() => {
    if (doc) document.title = `${doc.name} · vidgate`;
    return () => {
      document.title = 'vidgate';
    };
  }, [doc && doc.name]);

  const reload = useDebounced(load, 300);
  useLive(({ event, data }) => {
    if (event === 'open') return reload();
    if (event !== 'video' || !data) return;
    const r = rerunRef.current;
    // A re-run is a new video of the same name: the retry answer has no id
    // for it, so the first one registered after the click is taken.
    const isRerun = r && doc && data.name === doc.name && data.video_id !== Number(id) && (!r.id || r.id === data.video_id);
    if (data.video_id === Number(id)) reload();
    else if (!isRerun) return;
    if (isRerun) setRerun((cur) => ({ ...cur, id: data.video_id, state: data.state || cur.state }));
    setActivity((a) => [...a.slice(-49), { ...data, rerun: isRerun }]);
  });

  if (error && !doc) {
    return html`<section class="panel"><p><a href="#/">← All videos</a></p><${ErrorNote} error=${error} /></section>`;
  }
  if (!doc) return html`<section class="panel" aria-busy="true"><p class="muted">Loading video ${id}…</p></section>`;

  const duration = probeDuration(doc);
  const title = doc.metadata && typeof doc.metadata.title === 'string' ? doc.metadata.title : null;
  return html`
    <article class="detail" data-testid="detail" data-id=${doc.id} data-state=${doc.state}>
      <div class="detail-head">
        <p class="crumbs"><a href="#/">← All videos</a></p>
        <h2>${doc.name}</h2>
        ${title && html`<p class="subtitle">${title}</p>`}
        <p class="badges">
          <${StateBadge} state=${doc.state} />
          <${VerdictBadge} verdict=${doc.qc && doc.qc.verdict} />
          <span class="muted">updated <${Time} iso=${doc.updated_at} /></span>
        </p>
        ${doc.last_error && doc.state !== 'processed' && html`<p class="error" data-testid="last-error">${doc.last_error}</p>`}
        ${doc.state === 'retry_wait' && doc.next_attempt_at && html`<p>Next attempt <${Time} iso=${doc.next_attempt_at} />.</p>`}
        <${Retry} doc=${doc} onDone=${load} onRerun=${(since) => setRerun({ since, id: null, state: null })} rerun=${rerun} />
      </div>

      <div class="detail-grid">
        <section class="panel media" aria-label="Video">
          <${Player} doc=${doc} duration=${duration} />
        </section>
        <section class="panel facts" aria-labelledby="facts-h">
          <h3 id="facts-h">Facts</h3>
          ${FILED.has(doc.state) && !wasRerun(doc) && html`<${Poster} id=${doc.id} />`}
          <${Facts} doc=${doc} duration=${duration} />
        </section>
      </div>

      ${activity.length > 0 && html`<${Activity} items=${activity} />`}

      <section class="panel" aria-labelledby="qc-h">
        <h3 id="qc-h">Quality</h3>
        <${QcSummary} qc=${doc.qc} />
        <${Checks} qc=${doc.qc} />
        ${doc.qc && doc.qc.series && html`<h4>Per second</h4><${Plots} qc=${doc.qc} />`}
      </section>

      <section class="panel" aria-labelledby="attempts-h">
        <h3 id="attempts-h">Attempts</h3>
        <${Attempts} attempts=${doc.attempts} />
      </section>

      <section class="panel" aria-labelledby="outputs-h">
        <h3 id="outputs-h">Files</h3>
        <${Outputs} doc=${doc} />
      </section>

      <section class="panel" aria-labelledby="meta-h">
        <h3 id="meta-h">Metadata</h3>
        <${Metadata} metadata=${doc.metadata} sidecar=${doc.sidecar_key} />
        <${Probe} probe=${doc.probe} />
        <${Notifications} items=${doc.notifications} />
      </section>
    </article>
  `;
}

function Poster({ id }) {
  const [hidden, setHidden] = useState(false);
  if (hidden) return null;
  return html`<img class="poster" src=${`${videoPath(id)}/poster`} alt="Poster frame" data-testid="detail-poster" onError=${() => setHidden(true)} />`;
}

function Facts({ doc, duration }) {
  const v = ((doc.probe && doc.probe.streams) || []).find((s) => s.type === 'video');
  const a = ((doc.probe && doc.probe.streams) || []).find((s) => s.type === 'audio');
  const f = (doc.probe && doc.probe.format) || {};
  return html`
    <dl class="facts-list">
      <dt>Id</dt><dd>${doc.id}</dd>
      ${duration != null && html`<dt>Duration</dt><dd>${clock(duration)}</dd>`}
      ${v && html`<dt>Video</dt><dd>${v.codec} ${v.width}×${v.height}${v.frame_rate ? ` @ ${num(v.frame_rate)} fps` : ''}</dd>`}
      ${a && html`<dt>Audio</dt><dd>${a.codec}${a.channels ? `, ${a.channels} ch` : ''}${a.sample_rate ? `, ${num(a.sample_rate / 1000)} kHz` : ''}</dd>`}
      ${f.size != null && html`<dt>Size</dt><dd>${bytes(f.size)}${f.bit_rate ? `, ${num(f.bit_rate / 1000)} kb/s` : ''}</dd>`}
      <dt>Attempts</dt><dd>${doc.attempts.length}</dd>
      <dt>Created</dt><dd><${Time} iso=${doc.created_at} /></dd>
      <dt>Where</dt><dd><code>${doc.location}</code></dd>
      <dt>Uploaded as</dt><dd><code>${doc.source_key}</code></dd>
    </dl>
  `;
}

// A set-aside video that was run again keeps its state, but its folder was
// emptied: its location falls back to the original's key in uploads/, and
// the run goes on as a newer video of the same name.
const wasRerun = (doc) => (doc.state === 'rejected' || doc.state === 'unable_to_process') && doc.location.startsWith('uploads/');

function NewerRun({ doc }) {
  const [newer, setNewer] = useState(null);
  useEffect(() => {
    let gone = false;
    listVideos({ q: doc.name, limit: 50 })
      .then((page) => {
        const later = page.videos.filter((v) => v.name === doc.name && v.id > doc.id);
        if (!gone && later.length) setNewer(later[later.length - 1]);
      })
      .catch(() => {});
    return () => {
      gone = true;
    };
  }, [doc.id, doc.name]);
  return html`<p class="muted" data-testid="rerun-note">
    Already run again${newer ? html` as <a href=${`#/videos/${newer.id}`}>video ${newer.id}</a> (${stateLabel(newer.state)})` : ''}.
  </p>`;
}

function Retry({ doc, onDone, onRerun, rerun }) {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setAnswer(null);
    setError(null);
  }, [doc.id]);
  const rerunAlready = wasRerun(doc);
  const show = RETRYABLE.has(doc.state) && !rerunAlready;
  if (!show && !answer && !error && !rerun) return rerunAlready ? html`<${NewerRun} doc=${doc} />` : null;

  const click = async () => {
    setBusy(true);
    setError(null);
    setAnswer(null);
    // Watch for the re-run from now: it may register before the answer comes.
    if (doc.state !== 'retry_wait') onRerun(Date.now());
    try {
      const a = await postJSON(`${videoPath(doc.id)}/retry`);
      setAnswer(a);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`
    <div class="retry">
      ${show &&
      html`<button type="button" class="primary" data-testid="retry-button" onClick=${click} disabled=${busy}>
        ${busy ? 'Retrying…' : doc.state === 'retry_wait' ? 'Retry now' : 'Run again'}
      </button>`}
      <div role="status" aria-live="polite">
        ${answer &&
        html`<p class="result good" data-testid="retry-result" data-action=${answer.action}>
          ${answer.action === 'retry_now'
            ? 'Its next attempt is due now.'
            : html`Put back into uploads/ as <code>${answer.key}</code>: it runs again as a new video.`}
        </p>`}
        ${rerun &&
        rerun.id &&
        html`<p data-testid="rerun" data-id=${rerun.id} data-state=${rerun.state || ''}>
          The re-run is <a href=${`#/videos/${rerun.id}`}>video ${rerun.id}</a>: ${rerun.state && html`<${StateBadge} state=${rerun.state} />`}
        </p>`}
        ${error && html`<p class="result bad" data-testid="retry-result" data-action="">${error.message}</p>`}
      </div>
    </div>
  `;
}

function Activity({ items }) {
  return html`
    <section class="panel" aria-labelledby="activity-h">
      <h3 id="activity-h">Live activity</h3>
      <ol class="activity" data-testid="activity" aria-live="polite">
        ${items.map(
          (e) => html`<li data-state=${e.state || ''}>
            <time datetime=${e.at} title=${when(e.at)}>${new Date(e.at).toLocaleTimeString()}</time>
            ${e.rerun && html`<span class="muted">re-run ${e.video_id}:</span>`}
            ${e.state && html`<${StateBadge} state=${e.state} />`}
            <span>${e.message}</span>
          </li>`,
        )}
      </ol>
    </section>
  `;
}

function Attempts({ attempts }) {
  if (!attempts || !attempts.length) return html`<p class="muted">No attempt yet.</p>`;
  return html`
    <ol class="timeline" data-testid="attempts">
      ${attempts.map((a) => {
        const took = a.finished_at ? (Date.parse(a.finished_at) - Date.parse(a.started_at)) / 1000 : null;
        return html`
          <li class=${`attempt attempt-${a.outcome}`} data-testid="attempt" data-outcome=${a.outcome}>
            <div class="attempt-head">
              <b>#${a.number}</b>
              <span class=${`badge outcome-${a.outcome}`}>${a.outcome}</span>
              <span class="muted">
                ${when(a.started_at)}${took != null ? `, took ${span(took)}` : ', running'} · ${a.worker}
              </span>
            </div>
            ${a.error && html`<p class="error">${a.error}${a.retryable ? ' (will be retried)' : ''}</p>`}
          </li>
        `;
      })}
    </ol>
  `;
}

function Outputs({ doc }) {
  const rows = (doc.outputs || []).map((o) => ({ ...o, path: outputPath(doc, o.key) }));
  const filed = FILED.has(doc.state);
  return html`
    ${rows.length === 0 && html`<p class="muted">No outputs${filed ? '' : ' yet'}.</p>`}
    ${rows.length > 0 &&
    html`
      <table class="outputs" data-testid="outputs">
        <thead>
          <tr><th scope="col">File</th><th scope="col" class="opt">Codec</th><th scope="col" class="opt">Picture</th><th scope="col" class="num opt">Duration</th><th scope="col" class="num">Size</th></tr>
        </thead>
        <tbody>
          ${rows.map(
            (o) => html`
              <tr data-testid="output">
                <td>${o.path ? html`<a href=${outputUrl(doc, o.path)} target="_blank" rel="noopener">${o.path}</a>` : html`<code>${o.key}</code>`}</td>
                <td class="opt">${o.codec}</td>
                <td class="opt">${o.width && o.height ? `${o.width}×${o.height}` : ''}</td>
                <td class="num opt">${o.duration >= 0.5 ? clock(o.duration) : ''}</td>
                <td class="num">${bytes(o.size)}</td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    `}
    <p class="links">
      <a href=${`${videoPath(doc.id)}/original`} data-testid="original-link">original</a>
      ${filed && !doc.location.startsWith('uploads/') && html`<a href=${outputUrl(doc, 'report.json')} target="_blank" rel="noopener">report.json</a>`}
      <a href=${videoPath(doc.id)} target="_blank" rel="noopener">the whole document (JSON)</a>
    </p>
  `;
}

function Value({ v }) {
  if (v === null || typeof v !== 'object') return html`${String(v)}`;
  return html`<code class="json">${JSON.stringify(v)}</code>`;
}

function Metadata({ metadata, sidecar }) {
  const entries = Object.entries(metadata || {});
  return html`
    ${sidecar ? html`<p class="muted small">From <code>${sidecar}</code></p>` : html`<p class="muted">No sidecar yet.</p>`}
    ${entries.length > 0 &&
    html`<dl class="kv" data-testid="metadata">
      ${entries.map(([k, v]) => html`<dt>${k}</dt><dd><${Value} v=${v} /></dd>`)}
    </dl>`}
  `;
}

function Probe({ probe }) {
  if (!probe || !probe.format) return null;
  const streams = probe.streams || [];
  return html`
    <details class="probe">
      <summary>Probe: ${probe.format.name}, ${streams.length} stream${streams.length === 1 ? '' : 's'}</summary>
      <table>
        <thead><tr><th scope="col">#</th><th scope="col">Type</th><th scope="col">Codec</th><th scope="col">Details</th><th scope="col" class="num">Duration</th></tr></thead>
        <tbody>
          ${streams.map(
            (s) => html`<tr>
              <td>${s.index}</td><td>${s.type}</td><td>${s.codec}</td>
              <td>${s.type === 'video'
                ? `${s.width}×${s.height} ${s.pix_fmt || ''} ${s.frame_rate ? `${num(s.frame_rate)} fps` : ''}`
                : s.type === 'audio'
                  ? `${s.channels || '?'} ch, ${s.sample_rate || '?'} Hz`
                  : ''}</td>
              <td class="num">${s.duration != null ? clock(s.duration) : ''}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </details>
  `;
}

function Notifications({ items }) {
  if (!items || !items.length) return null;
  return html`
    <details class="notifications">
      <summary>Notifications (${items.length})</summary>
      <table>
        <thead><tr><th scope="col">Event</th><th scope="col">Sink</th><th scope="col">Delivered</th><th scope="col" class="num">Tries</th><th scope="col">Error</th></tr></thead>
        <tbody>
          ${items.map(
            (n) => html`<tr>
              <td><code>${n.type}</code></td>
              <td>${n.sink}</td>
              <td>${n.delivered_at ? html`<${Time} iso=${n.delivered_at} />` : n.gave_up ? 'gave up' : 'pending'}</td>
              <td class="num">${n.tries}</td>
              <td>${n.last_error || ''}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </details>
  `;
}
