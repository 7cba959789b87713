// upload.js: POST /api/videos from the browser: the file and its sidecar
// (the title, plus any JSON typed in) as multipart/form-data, with progress.
import { useRef, useState } from 'preact/hooks';
import { upload } from '../api.js';
import { html, bytes, num } from './common.js';

// The extra JSON: '' or an object. Returns [object, error message].
function parseExtra(text) {
  if (!text.trim()) return [{}, null];
  try {
    const v = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [null, 'must be a JSON object, like {"tags": ["news"]}'];
    return [v, null];
  } catch (err) {
    return [null, `not JSON: ${err.message}`];
  }
}

export function Upload() {
  const [open, setOpen] = useState(false);
  const [file, setFile] = useState(null);
  const [title, setTitle] = useState('');
  const [extra, setExtra] = useState('');
  const [progress, setProgress] = useState(null); // 0..1 while sending
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null); // {ok, status, body | error}
  const job = useRef(null);
  const form = useRef(null);

  const [extraObj, extraError] = parseExtra(extra);

  const submit = async (e) => {
    e.preventDefault();
    if (!file || !title.trim() || extraError) return;
    // The title field wins over a "title" in the JSON: it is the one asked for.
    const metadata = { ...extraObj, title: title.trim() };
    setBusy(true);
    setResult(null);
    setProgress(0);
    job.current = upload(file, metadata, setProgress);
    try {
      const { status, body } = await job.current.promise;
      setResult({ ok: true, status, body });
      form.current && form.current.reset();
      setFile(null);
      setTitle('');
      setExtra('');
    } catch (err) {
      setResult({ ok: false, status: err.status, error: err });
    } finally {
      job.current = null;
      setBusy(false);
    }
  };

  const pct = progress == null ? 0 : Math.round(progress * 100);
  return html`
    <details class="panel upload" open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)} data-testid="upload-panel">
      <summary data-testid="upload-open"><h2>Upload a video</h2></summary>
      <form ref=${form} onSubmit=${submit} data-testid="upload-form" novalidate>
        <div class="field">
          <label for="upload-file">Video file</label>
          <input
            id="upload-file"
            type="file"
            required
            data-testid="upload-file"
            onChange=${(e) => setFile(e.currentTarget.files[0] || null)}
          />
          ${file && html`<span class="muted small">${file.name}, ${bytes(file.size)}</span>`}
        </div>
        <div class="field">
          <label for="upload-title">Title <span class="muted">(required)</span></label>
          <input
            id="upload-title"
            type="text"
            required
            autocomplete="off"
            data-testid="upload-title"
            value=${title}
            onInput=${(e) => setTitle(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="upload-extra">More metadata <span class="muted">(a JSON object, merged into the sidecar)</span></label>
          <textarea
            id="upload-extra"
            rows="3"
            spellcheck="false"
            data-testid="upload-extra"
            placeholder='{"tags": ["news"], "language": "en"}'
            aria-invalid=${extraError ? 'true' : 'false'}
            aria-describedby="upload-extra-error"
            value=${extra}
            onInput=${(e) => setExtra(e.currentTarget.value)}
          ></textarea>
          <span id="upload-extra-error" class="error small">${extraError || ''}</span>
        </div>
        <div class="actions">
          <button type="submit" class="primary" data-testid="upload-submit" disabled=${busy || !file || !title.trim() || !!extraError}>
            ${busy ? 'Uploading…' : 'Upload'}
          </button>
          ${busy && html`<button type="button" onClick=${() => job.current && job.current.abort()}>Cancel</button>`}
          ${progress != null &&
          html`
            <progress max="100" value=${pct} data-testid="upload-progress" data-value=${pct} aria-label="Upload progress"></progress>
            <span class="small" aria-hidden="true">${pct} %${file ? ` of ${bytes(file.size)}` : ''}</span>
          `}
        </div>
        <div role="status" aria-live="polite">${result && html`<${UploadResult} result=${result} />`}</div>
      </form>
    </details>
  `;
}

function UploadResult({ result }) {
  if (!result.ok) {
    const e = result.error;
    return html`<p class="result bad" data-testid="upload-result" data-status=${result.status}>
      Not uploaded${result.status ? ` (${result.status}${e.code && !e.code.startsWith('http_') ? ` ${e.code}` : ''})` : ''}: ${e.message}
    </p>`;
  }
  const b = result.body || {};
  return html`<p class="result good" data-testid="upload-result" data-status=${result.status} data-id=${b.id ?? ''} data-name=${b.name ?? ''}>
    ${result.status === 201
      ? html`Uploaded <a href=${`#/videos/${b.id}`}>${b.name}</a> (${bytes(b.bytes)}): intake has taken it in as video ${num(b.id)}.`
      : html`Uploaded ${b.name} (${bytes(b.bytes)}) into ${b.key}; intake has not taken it in yet, it will show in the list when it does.`}
  </p>`;
}
