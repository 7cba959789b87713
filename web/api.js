// api.js: every call to vidgate's HTTP API. Adds the bearer token once the
// server asked for one, uploads with progress (XMLHttpRequest: fetch reports
// no upload progress), and reads the event stream with fetch(), because
// EventSource cannot send an Authorization header.

const TOKEN_KEY = 'vidgate.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// --- the token ---------------------------------------------------------
// On loopback without server.token nothing asks for one. A 401 (or a 403
// after a token was sent: a wrong one) parks the call until the token form
// is answered, then sends it again.

let askHandler = null;
let waiters = [];

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

// Pictures, the sprite and the player load through <img> and <video>,
// which cannot send a header: POST /api/session (with the token) has the
// server set an HttpOnly cookie holding a key that opens reads only, for
// this browser session; DELETE /api/session clears it.
function openSession(value) {
  return fetch('/api/session', { method: 'POST', headers: { Authorization: `Bearer ${value}` } }).catch(() => {});
}
function closeSession() {
  return fetch('/api/session', { method: 'DELETE' }).catch(() => {});
}
if (token()) openSession(token());

// The app's token form: called with the server's reason when one is needed.
export function onTokenNeeded(handler) {
  askHandler = handler;
}

// The form's answer: a token (calls waiting go again) or '' (they fail).
export function answerToken(value) {
  if (value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    openSession(value);
  }
  const parked = waiters;
  waiters = [];
  for (const w of parked) (value ? w.resolve() : w.reject(new ApiError(401, 'unauthorized', 'no API token given')));
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  closeSession();
}

function askForToken(reason) {
  return new Promise((resolve, reject) => {
    waiters.push({ resolve, reject });
    if (askHandler) askHandler(reason);
    else reject(new ApiError(401, 'unauthorized', reason));
  });
}

function withAuth(headers = {}) {
  const t = token();
  return t ? { ...headers, Authorization: `Bearer ${t}` } : headers;
}

// 401, or 403 bad_token (the token we sent is not the server's): the token
// form should come up. Another 403 (the store refused something) is an
// error like any other.
function needsToken(err, sentToken) {
  return err.status === 401 || (err.status === 403 && err.code === 'bad_token' && sentToken);
}

async function errorOf(res) {
  try {
    const body = await res.json();
    if (body && body.error) return new ApiError(res.status, body.error.code, body.error.message);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, `http_${res.status}`, `${res.status} ${res.statusText}`.trim());
}

// --- plain calls ---------------------------------------------------------

async function call(path, { method = 'GET', headers, signal, as = 'json' } = {}) {
  for (;;) {
    const sent = token() !== '';
    const res = await fetch(path, { method, headers: withAuth(headers), signal, cache: 'no-store' });
    if (!res.ok) {
      const err = await errorOf(res);
      if (!needsToken(err, sent)) throw err;
      if (sent) forgetToken();
      await askForToken(err.message);
      continue;
    }
    return as === 'text' ? res.text() : res.json();
  }
}

export const getJSON = (path, opts) => call(path, opts);
export const getText = (path, opts) => call(path, { ...opts, as: 'text' });
export const postJSON = (path, opts) => call(path, { ...opts, method: 'POST' });

export function videoPath(id) {
  return `/api/videos/${encodeURIComponent(id)}`;
}

export function listVideos({ state, q, cursor, limit = 50 } = {}, signal) {
  const p = new URLSearchParams();
  if (state) p.set('state', state);
  if (q) p.set('q', q);
  if (cursor) p.set('cursor', cursor);
  p.set('limit', String(limit));
  return getJSON(`/api/videos?${p}`, { signal });
}

// --- upload ----------------------------------------------------------------

// POST /api/videos as multipart/form-data (parts `metadata`, then `file`).
// Resolves to {status, body} for 201/202; rejects with ApiError otherwise.
export function upload(file, metadata, onProgress) {
  let xhr = null;
  let aborted = false;
  const send = () =>
    new Promise((resolve, reject) => {
      const form = new FormData();
      // The metadata first: the server reads the parts in order.
      form.append('metadata', JSON.stringify(metadata));
      form.append('file', file, file.name);
      xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/videos');
      const t = token();
      if (t) xhr.setRequestHeader('Authorization', `Bearer ${t}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      // All bytes are out: the rest is the server taking the file in.
      xhr.upload.onload = () => onProgress(1);
      xhr.onload = () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          body = null;
        }
        if (xhr.status === 201 || xhr.status === 202) return resolve({ status: xhr.status, body });
        const e = body && body.error;
        const err = new ApiError(xhr.status, e ? e.code : `http_${xhr.status}`, e ? e.message : `${xhr.status} ${xhr.statusText}`);
        err.sentToken = t !== '';
        reject(err);
      };
      xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload could not reach the server'));
      xhr.onabort = () => reject(new ApiError(0, 'aborted', 'upload cancelled'));
      xhr.send(form);
    });
  const promise = (async () => {
    for (;;) {
      try {
        return await send();
      } catch (err) {
        if (aborted || !needsToken(err, err.sentToken)) throw err;
        if (err.sentToken) forgetToken();
        onProgress(0);
        await askForToken(err.message);
      }
    }
  })();
  return {
    promise,
    abort() {
      aborted = true;
      if (xhr) xhr.abort();
    },
  };
}

// --- the event stream ------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Reads GET /api/events for as long as it is not stopped: reconnects with
// back-off (the server's `retry:` first, doubling to 30 s) and resumes with
// Last-Event-ID. Messages that come again after a resume (the server may
// repeat a few) are dropped by their data.id.
//   onMessage({event, data, id}), onStatus('connecting'|'live'|'reconnecting'),
//   onOpen(): each time a stream starts (whatever came before may be missed).
export function streamEvents({ onMessage, onStatus, onOpen }) {
  let stopped = false;
  let controller = null;
  let lastId = '';
  let retryMs = 2000;
  let delay = retryMs;
  const seen = new Set();

  const remember = (key) => {
    if (seen.has(key)) return false;
    seen.add(key);
    if (seen.size > 5000) seen.delete(seen.values().next().value);
    return true;
  };

  const dispatch = (event, dataText) => {
    let data;
    try {
      data = JSON.parse(dataText);
    } catch {
      return;
    }
    const key = data && data.id != null ? `${event}:${data.id}` : null;
    if (key && !remember(key)) return;
    delay = retryMs; // a message went through: the connection is good
    onMessage({ event, data, id: lastId });
  };

  const read = async (body, signal) => {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let event = '';
    let data = [];
    // A stream that stays silent past the server's 15 s keep-alive is dead.
    let watchdog = null;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => controller && controller.abort(), 45000);
    };
    arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || signal.aborted) return;
        arm();
        buf += value;
        for (;;) {
          const m = /\r\n|\n|\r/.exec(buf);
          // A trailing \r may be half of \r\n: wait for the next chunk.
          if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
          const line = buf.slice(0, m.index);
          buf = buf.slice(m.index + m[0].length);
          if (line === '') {
            if (data.length) dispatch(event || 'message', data.join('\n'));
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue; // a comment: keep-alive
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? '' : line.slice(colon + 1);
          if (val.startsWith(' ')) val = val.slice(1);
          if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
          else if (field === 'id' && !val.includes('\0')) lastId = val;
          else if (field === 'retry' && /^\d+$/.test(val)) retryMs = Number(val);
        }
      }
    } finally {
      clearTimeout(watchdog);
      reader.cancel().catch(() => {});
    }
  };

  (async () => {
    while (!stopped) {
      onStatus(lastId ? 'reconnecting' : 'connecting');
      controller = new AbortController();
      try {
        const headers = { Accept: 'text/event-stream' };
        if (lastId) headers['Last-Event-ID'] = lastId;
        const sent = token() !== '';
        const res = await fetch('/api/events', { headers: withAuth(headers), signal: controller.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) {
          const err = await errorOf(res);
          if (needsToken(err, sent)) {
            if (sent) forgetToken();
            await askForToken(err.message).catch(() => sleep(30000));
            continue;
          }
        }
        if (res.status === 400 && lastId) {
          // Not a resume point this server knows: start from what is new.
          lastId = '';
          continue;
        }
        if (!res.ok) throw await errorOf(res);
        onStatus('live');
        onOpen();
        const opened = Date.now();
        await read(res.body, controller.signal);
        if (Date.now() - opened > 10000) delay = retryMs; // it held: come back soon
      } catch {
        // a dropped connection or a refused stream: back off and come again
      }
      if (stopped) return;
      onStatus('reconnecting');
      await sleep(delay * (0.8 + Math.random() * 0.4));
      delay = Math.min(delay * 2, 30000);
    }
  })();

  return () => {
    stopped = true;
    if (controller) controller.abort();
  };
}
