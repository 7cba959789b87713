// player.js: the rendition in a <video>, and the thumbnail sprite as a seek
// strip under it (thumbnails/sprite.vtt maps time ranges to tiles of
// sprite.jpg; hovering shows the tile, clicking seeks).
import { useEffect, useRef, useState } from 'preact/hooks';
import { getText, videoPath } from '../api.js';
import { html, clock, FILED } from './common.js';

// The output's path under the video's vidgate/ folder, for
// /api/videos/{id}/outputs/{path}.
export function outputPath(doc, key) {
  const prefix = `${doc.location}/vidgate/`;
  if (key.startsWith(prefix)) return key.slice(prefix.length);
  const at = key.lastIndexOf('/vidgate/');
  return at >= 0 ? key.slice(at + '/vidgate/'.length) : null;
}

export function outputUrl(doc, path) {
  return `${videoPath(doc.id)}/outputs/${path.split('/').map(encodeURIComponent).join('/')}`;
}

// renditions/main.mp4, else the first MP4 output, else HLS where the browser
// plays it natively (Safari); no hls.js.
export function playableSource(doc) {
  const paths = (doc.outputs || []).map((o) => outputPath(doc, o.key)).filter(Boolean);
  const mp4 = paths.find((p) => p === 'renditions/main.mp4') || paths.find((p) => p.endsWith('.mp4'));
  if (mp4) return { url: outputUrl(doc, mp4), type: 'video/mp4' };
  const hls = paths.find((p) => p.endsWith('master.m3u8'));
  if (hls && document.createElement('video').canPlayType('application/vnd.apple.mpegurl')) {
    return { url: outputUrl(doc, hls), type: 'application/vnd.apple.mpegurl' };
  }
  return null;
}

export function Player({ doc, duration }) {
  const video = useRef(null);
  const source = playableSource(doc);
  const hasSprite = (doc.outputs || []).some((o) => outputPath(doc, o.key) === 'thumbnails/sprite.vtt');
  if (!source) {
    return html`<p class="muted player-none" data-testid="no-player">No playable rendition${FILED.has(doc.state) ? '' : ' yet'}.</p>`;
  }
  return html`
    <div class="player">
      <video
        ref=${video}
        controls
        preload="metadata"
        playsinline
        src=${source.url}
        poster=${`${videoPath(doc.id)}/poster`}
        data-testid="player"
      ></video>
      ${hasSprite && html`<${SeekStrip} doc=${doc} video=${video} duration=${duration} />`}
    </div>
  `;
}

// "00:01:02.500" or "01:02.500" in seconds.
function vttTime(t) {
  const parts = t.trim().split(':').map(Number);
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

// The cues of a WebVTT thumbnail track: [{start, end, src, x, y, w, h}].
export function parseSpriteVtt(text, baseUrl) {
  const cues = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n\n+/)) {
    const lines = block.split('\n').filter(Boolean);
    const i = lines.findIndex((l) => l.includes('-->'));
    if (i < 0 || !lines[i + 1]) continue;
    const [a, b] = lines[i].split('-->');
    const [file, frag] = lines[i + 1].trim().split('#');
    const m = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag || '');
    if (!m) continue;
    cues.push({
      start: vttTime(a),
      end: vttTime(b.trim().split(/\s/)[0]),
      src: new URL(file, baseUrl).pathname,
      x: +m[1],
      y: +m[2],
      w: +m[3],
      h: +m[4],
    });
  }
  return cues;
}

function SeekStrip({ doc, video, duration }) {
  const [cues, setCues] = useState([]);
  const [sprite, setSprite] = useState(null);
  const [hover, setHover] = useState(null); // {x, t, cue}
  const [now, setNow] = useState(0);
  const canvas = useRef(null);
  const strip = useRef(null);
  const vttUrl = outputUrl(doc, 'thumbnails/sprite.vtt');
  const end = cues.length ? Math.max(duration || 0, cues[cues.length - 1].end) : duration || 0;

  useEffect(() => {
    let gone = false;
    getText(vttUrl)
      .then((text) => {
        if (gone) return;
        const parsed = parseSpriteVtt(text, new URL(vttUrl, location.href));
        setCues(parsed);
        if (!parsed.length) return;
        const img = new Image();
        img.onload = () => !gone && setSprite(img);
        img.src = parsed[0].src;
      })
      .catch(() => {});
    return () => {
      gone = true;
    };
  }, [vttUrl]);

  // The tiles side by side, each as wide as its share of the time.
  useEffect(() => {
    const c = canvas.current;
    if (!c || !sprite || !cues.length || !end) return;
    const draw = () => {
      const dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth;
      const h = c.clientHeight;
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      const ctx = c.getContext('2d');
      ctx.scale(dpr, dpr);
      // A filmstrip: each tile at its own aspect, repeated across the time
      // it stands for.
      for (const q of cues) {
        const x0 = (q.start / end) * w;
        const x1 = (q.end / end) * w;
        const tw = (h * q.w) / q.h;
        ctx.save();
        ctx.beginPath();
        ctx.rect(x0, 0, x1 - x0, h);
        ctx.clip();
        for (let x = x0; x < x1; x += tw) ctx.drawImage(sprite, q.x, q.y, q.w, q.h, x, 0, tw, h);
        ctx.restore();
      }
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(c);
    return () => ro.disconnect();
  }, [sprite, cues, end]);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const tick = () => setNow(v.currentTime);
    v.addEventListener('timeupdate', tick);
    v.addEventListener('seeked', tick);
    return () => {
      v.removeEventListener('timeupdate', tick);
      v.removeEventListener('seeked', tick);
    };
  }, [video.current]);

  if (!cues.length || !end) return null;

  const timeAt = (clientX) => {
    const r = strip.current.getBoundingClientRect();
    const x = Math.min(Math.max(clientX - r.left, 0), r.width);
    return { x, t: (x / r.width) * end };
  };
  const cueAt = (t) => cues.find((q) => t >= q.start && t < q.end) || cues[cues.length - 1];
  const seek = (t) => {
    const v = video.current;
    if (v) v.currentTime = Math.min(Math.max(t, 0), end);
    setNow(t);
  };
  const onKey = (e) => {
    const step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[e.key];
    if (step != null) seek(now + step);
    else if (e.key === 'Home') seek(0);
    else if (e.key === 'End') seek(end);
    else return;
    e.preventDefault();
  };

  const width = strip.current ? strip.current.clientWidth : 0;
  return html`
    <div
      class="seek-strip"
      ref=${strip}
      role="slider"
      tabindex="0"
      aria-label="Seek by thumbnail"
      aria-valuemin="0"
      aria-valuemax=${Math.round(end)}
      aria-valuenow=${Math.round(now)}
      aria-valuetext=${clock(now)}
      data-testid="seek-strip"
      onMouseMove=${(e) => {
        const { x, t } = timeAt(e.clientX);
        setHover({ x, t, cue: cueAt(t) });
      }}
      onMouseLeave=${() => setHover(null)}
      onClick=${(e) => seek(timeAt(e.clientX).t)}
      onKeyDown=${onKey}
    >
      <canvas ref=${canvas} aria-hidden="true"></canvas>
      <span class="playhead" style=${`left:${(now / end) * 100}%`} aria-hidden="true"></span>
      ${hover &&
      html`
        <div
          class="seek-preview"
          data-testid="seek-preview"
          style=${`left:${Math.min(Math.max(hover.x - hover.cue.w / 2, 0), Math.max(width - hover.cue.w, 0))}px`}
          aria-hidden="true"
        >
          <div
            class="tile"
            style=${`width:${hover.cue.w}px;height:${hover.cue.h}px;background-image:url("${hover.cue.src}");background-position:-${hover.cue.x}px -${hover.cue.y}px`}
          ></div>
          <span>${clock(hover.t)}</span>
        </div>
      `}
    </div>
  `;
}
