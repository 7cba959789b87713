// app.js: the dashboard's entry: hash routes, the header, the token form.
//   #/                      the list (#/?state=processed&q=news: its filters)
//   #/videos/{id}           one video
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { onTokenNeeded, answerToken, forgetToken, token } from './api.js';
import { startLive } from './live.js';
import { html, STATES } from './views/common.js';
import { Header } from './views/header.js';
import { VideoList } from './views/list.js';
import { Detail } from './views/detail.js';

function parseRoute(hash) {
  const h = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = h.split('?');
  const video = /^\/videos\/(\d+)\/?$/.exec(path);
  if (video) return { view: 'detail', id: video[1] };
  if (path === '/' || path === '') {
    const p = new URLSearchParams(query);
    const state = STATES.includes(p.get('state')) ? p.get('state') : '';
    return { view: 'list', filters: { state, q: p.get('q') || '' } };
  }
  return { view: 'missing', path };
}

function listHash({ state, q }) {
  const p = new URLSearchParams();
  if (state) p.set('state', state);
  if (q) p.set('q', q);
  const s = p.toString();
  return s ? `#/?${s}` : '#/';
}

function useRoute() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // Filters replace the entry (no history step per keystroke).
  const replace = (hash) => {
    history.replaceState(null, '', hash);
    setRoute(parseRoute(hash));
  };
  return [route, replace];
}

// The API token, asked for when the server answers 401 and kept for the
// session (sessionStorage): a modal <dialog>, so focus stays in it.
function TokenDialog() {
  const [reason, setReason] = useState(null);
  const dialog = useRef(null);
  const input = useRef(null);
  useEffect(() => onTokenNeeded((why) => setReason(why || 'This server needs its API token.')), []);
  useEffect(() => {
    const d = dialog.current;
    if (reason && d && !d.open) {
      d.showModal();
      input.current && input.current.focus();
    }
  }, [reason]);
  const close = (value) => {
    dialog.current && dialog.current.open && dialog.current.close();
    setReason(null);
    answerToken(value);
  };
  return html`
    <dialog ref=${dialog} class="token" aria-labelledby="token-h" data-testid="token-dialog" onCancel=${(e) => { e.preventDefault(); close(''); }}>
      <form
        data-testid="token-form"
        onSubmit=${(e) => {
          e.preventDefault();
          close(input.current.value.trim());
        }}
      >
        <h2 id="token-h">API token</h2>
        <p>This server asks for its API token.</p>
        <p class="muted small" data-testid="token-reason">${reason}</p>
        <label for="token-input">Token (server.token)</label>
        <input id="token-input" ref=${input} type="password" autocomplete="current-password" required data-testid="token-input" />
        <p class="muted small">Kept in this tab only (session storage) and sent as <code>Authorization: Bearer</code>; pictures and the player read with a session cookie the server sets, which cannot change anything.</p>
        <div class="actions">
          <button type="submit" class="primary" data-testid="token-submit">Use token</button>
          <button type="button" onClick=${() => close('')}>Cancel</button>
        </div>
      </form>
    </dialog>
  `;
}

function App() {
  const [route, replace] = useRoute();
  useEffect(() => startLive(), []);
  // Moving between views puts focus on the new view's content, as a page load would.
  const main = useRef(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current && main.current.focus({ preventScroll: true });
    scrollTo(0, 0);
  }, [route.view, route.id]);

  let view;
  if (route.view === 'detail') view = html`<${Detail} key=${route.id} id=${route.id} />`;
  else if (route.view === 'list') view = html`<${VideoList} filters=${route.filters} onFilters=${(f) => replace(listHash(f))} />`;
  else view = html`<section class="panel"><h2>Not found</h2><p>Nothing at <code>${route.path}</code>. <a href="#/">All videos</a></p></section>`;

  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); main.current.focus(); }}>Skip to content</a>
    <${Header} activeState=${route.view === 'list' ? route.filters.state : null} />
    <main id="main" ref=${main} tabindex="-1">${view}</main>
    <footer class="foot">
      <a href="/api/openapi.json" target="_blank" rel="noopener">API</a>
      <a href="/metrics" target="_blank" rel="noopener">metrics</a>
      ${token() && html`<button type="button" class="link" onClick=${() => { forgetToken(); location.reload(); }}>forget the API token</button>`}
    </footer>
    <${TokenDialog} />
  `;
}

render(html`<${App} />`, document.getElementById('app'));
