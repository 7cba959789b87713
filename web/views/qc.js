// qc.js: the quality report's verdict, key figures and checks.
import { html, num, VerdictBadge } from './common.js';

export function QcSummary({ qc }) {
  if (!qc || !qc.verdict) return html`<p class="muted">No quality report yet.</p>`;
  const checks = qc.checks || [];
  const failed = checks.filter((c) => c.status === 'fail');
  const loud = qc.audio && qc.audio.loudness;
  return html`
    <div class="qc-summary">
      <p>
        <${VerdictBadge} verdict=${qc.verdict} />
        ${' '}policy <b>${qc.policy}</b>:
        ${' '}${failed.length === 0 ? 'every check passed' : `${failed.length} of ${checks.length} checks failed`}
        ${qc.decoded === false && html`<span class="muted"> (the file was not decoded)</span>`}
      </p>
      <ul class="figures">
        ${qc.video && qc.video.frames != null && html`<li>${num(qc.video.frames)} video frames</li>`}
        ${qc.video && html`<li>${num(qc.video.decode_errors)} decode errors</li>`}
        ${loud && loud.integrated_lufs != null && html`<li>integrated ${num(loud.integrated_lufs)} LUFS</li>`}
        ${loud && loud.true_peak_dbtp != null && html`<li>true peak ${num(loud.true_peak_dbtp)} dBTP</li>`}
        ${qc.video && qc.video.interlace && html`<li>${qc.video.interlace.verdict}</li>`}
      </ul>
    </div>
  `;
}

export function Checks({ qc }) {
  const checks = (qc && qc.checks) || [];
  if (!checks.length) return null;
  // Failures first, the gravest on top; passes keep the report's order.
  const rank = (c) => (c.status === 'fail' ? (c.severity === 'error' ? 0 : 1) : 2);
  const sorted = checks.map((c, i) => [c, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([c]) => c);
  return html`
    <table class="checks" data-testid="qc-checks">
      <caption class="sr-only">Quality checks</caption>
      <thead>
        <tr><th scope="col">Result</th><th scope="col">Check</th><th scope="col" class="opt">Severity</th><th scope="col">Finding</th></tr>
      </thead>
      <tbody>
        ${sorted.map(
          (c) => html`
            <tr class=${`check ${c.status} sev-${c.severity}`} data-testid="qc-check" data-id=${c.id} data-status=${c.status} data-severity=${c.severity}>
              <td><span class=${`mark ${c.status}`} title=${`${c.severity} check`}>${c.status === 'pass' ? '✓ pass' : '✗ fail'}</span></td>
              <td><code>${c.id}</code></td>
              <td class="opt"><span class=${`sev sev-${c.severity}`}>${c.severity}</span></td>
              <td>${c.message}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
