// list.js: the videos, newest first, kept current by the event stream.
// A change of state is shown at once from the event; the first page is then
// fetched again (debounced) for what events do not carry: attempts, errors,
// and new videos that match the filters.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { listVideos } from '../api.js';
import { useDebounced, useLive } from '../live.js';
import { html, STATES, FILED, stateLabel, StateBadge, VerdictBadge, Time, ErrorNote, clock, probeDuration } from './common.js';
import { Upload } from './upload.js';

const PAGE = 50;

// Rows fetched again replace the ones held; videos not held yet go on top.
function merge(rows, fresh) {
  const byId = new Map(fresh.map((v) => [v.id, v]));
  const held = new Set(rows.map((v) => v.id));
  const added = fresh.filter((v) => !held.has(v.id));
  return [...added, ...rows.map((v) => byId.get(v.id) || v)];
}

export function VideoList({ filters, onFilters }) {
  const [rows, setRows] = useState([]);
  const [cursor, setCursor] = useState(null);
  const pages = useRef(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const [q, setQ] = useState(filters.q || '');
  const generation = useRef(0);

  // A new filter starts over; an answer for an old one is dropped.
  const loadFirst = useCallback(async () => {
    const gen = ++generation.current;
    setLoading(true);
    try {
      const page = await listVideos({ state: filters.state, q: filters.q, limit: PAGE });
      if (gen !== generation.current) return;
      setRows(page.videos);
      setCursor(page.next_cursor);
      pages.current = 1;
      setError(null);
    } catch (err) {
      if (gen === generation.current) setError(err);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  }, [filters.state, filters.q]);

  useEffect(() => {
    // The box keeps what is being typed (a trailing space, say) while the
    // URL holds the trimmed search.
    setQ((typed) => (typed.trim() === (filters.q || '') ? typed : filters.q || ''));
    loadFirst();
  }, [loadFirst]);

  const refresh = useCallback(async () => {
    const gen = generation.current;
    try {
      const page = await listVideos({ state: filters.state, q: filters.q, limit: PAGE });
      if (gen !== generation.current) return;
      setRows((held) => merge(held, page.videos));
      // With more than one page held, the cursor of the last one still holds.
      if (pages.current <= 1) setCursor(page.next_cursor);
      setError(null);
    } catch (err) {
      if (gen === generation.current) setError(err);
    }
  }, [filters.state, filters.q]);
  const refreshSoon = useDebounced(refresh, 300);

  useLive(({ event, data }) => {
    if (event === 'open') return refreshSoon();
    if (event !== 'video' || !data || !data.video_id) return;
    if (data.state) {
      setRows((held) =>
        held.map((v) => (v.id === data.video_id ? { ...v, state: data.state, updated_at: data.at } : v)),
      );
    }
    refreshSoon();
  });

  const more = async () => {
    const gen = generation.current;
    setLoading(true);
    try {
      const page = await listVideos({ state: filters.state, q: filters.q, cursor, limit: PAGE });
      if (gen !== generation.current) return;
      setRows((held) => {
        const have = new Set(held.map((v) => v.id));
        return [...held, ...page.videos.filter((v) => !have.has(v.id))];
      });
      setCursor(page.next_cursor);
      pages.current += 1;
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };

  // Typing searches once the typist pauses.
  const searchSoon = useDebounced((value) => onFilters({ ...filters, q: value }), 300);

  // Columns the list answer does not carry (yet) are left out, not blank.
  const showDuration = rows.some((v) => probeDuration(v) != null);
  const showVerdict = rows.some((v) => v.verdict || (v.qc && v.qc.verdict));

  return html`
    <div class="list-page">
      <${Upload} />
      <section class="panel" aria-labelledby="videos-heading">
        <div class="list-head">
          <h2 id="videos-heading">Videos</h2>
          <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
            <label>
              <span>State</span>
              <select
                data-testid="filter-state"
                value=${filters.state || ''}
                onChange=${(e) => onFilters({ ...filters, state: e.currentTarget.value })}
              >
                <option value="">all states</option>
                ${STATES.map((s) => html`<option value=${s}>${stateLabel(s)}</option>`)}
              </select>
            </label>
            <label>
              <span>Search</span>
              <input
                type="search"
                data-testid="filter-q"
                placeholder="name or title"
                value=${q}
                onInput=${(e) => {
                  setQ(e.currentTarget.value);
                  searchSoon(e.currentTarget.value.trim());
                }}
              />
            </label>
          </form>
        </div>
        <${ErrorNote} error=${error} />
        <table class="videos" data-testid="video-list" aria-busy=${loading ? 'true' : 'false'}>
          <thead>
            <tr>
              <th scope="col"><span class="sr-only">Poster</span></th>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Attempts</th>
              ${showDuration && html`<th scope="col" class="num">Duration</th>`}
              ${showVerdict && html`<th scope="col">Verdict</th>`}
              <th scope="col" class="updated">Updated</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (v) => html`
                <${Row} key=${v.id} v=${v} showDuration=${showDuration} showVerdict=${showVerdict} />
              `,
            )}
          </tbody>
        </table>
        ${!loading && rows.length === 0 && !error &&
        html`<p class="empty" data-testid="list-empty">
          ${filters.state || filters.q ? 'No video matches these filters.' : 'No videos yet: upload one above, or drop a file and its sidecar into uploads/.'}
        </p>`}
        <div class="list-foot">
          ${cursor &&
          html`<button type="button" data-testid="load-more" onClick=${more} disabled=${loading}>
            ${loading ? 'Loading…' : 'Load more'}
          </button>`}
          ${loading && !cursor && html`<span class="muted">Loading…</span>`}
        </div>
      </section>
    </div>
  `;
}

function Row({ v, showDuration, showVerdict }) {
  const [broken, setBroken] = useState(false);
  const href = `#/videos/${v.id}`;
  const duration = probeDuration(v);
  return html`
    <tr data-testid="video-row" data-id=${v.id} data-name=${v.name} data-state=${v.state}>
      <td class="thumb">
        ${FILED.has(v.state) && !v.location.startsWith('uploads/') && !broken
          ? html`<img loading="lazy" src=${`/api/videos/${v.id}/poster`} alt="" width="96" height="54" onError=${() => setBroken(true)} />`
          : html`<span class="no-thumb" aria-hidden="true"></span>`}
      </td>
      <td class="name">
        <a href=${href} data-testid="video-link">${v.name}</a>
        ${v.title && html`<span class="row-title muted small" data-testid="video-title">${v.title}</span>`}
        ${v.last_error && v.state !== 'processed' && html`<span class="row-error" title=${v.last_error}>${v.last_error}</span>`}
        ${v.state === 'retry_wait' && v.next_attempt_at && html`<span class="muted small">next attempt <${Time} iso=${v.next_attempt_at} /></span>`}
      </td>
      <td><${StateBadge} state=${v.state} /></td>
      <td class="num" data-testid="attempts">${v.attempts}</td>
      ${showDuration && html`<td class="num">${duration != null ? clock(duration) : ''}</td>`}
      ${showVerdict && html`<td><${VerdictBadge} verdict=${v.verdict || (v.qc && v.qc.verdict)} /></td>`}
      <td class="updated"><${Time} iso=${v.updated_at} /></td>
    </tr>
  `;
}
