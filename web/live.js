// live.js: one event stream for the whole page, shared by every view.
// Views subscribe with useLive(); the header shows useLiveStatus().
import { useEffect, useRef, useState } from 'preact/hooks';
import { streamEvents } from './api.js';

const listeners = new Set();
const statusListeners = new Set();
let status = 'connecting';
let stop = null;

function emit(message) {
  for (const l of listeners) {
    try {
      l(message);
    } catch (err) {
      console.error('live listener', err);
    }
  }
}

export function startLive() {
  if (stop) return stop;
  stop = streamEvents({
    onMessage: emit,
    // A (re)opened stream may have missed what happened meanwhile: views
    // reload what they show on {event: 'open'}.
    onOpen: () => emit({ event: 'open', data: null }),
    onStatus: (s) => {
      status = s;
      for (const l of statusListeners) l(s);
    },
  });
  return stop;
}

// Calls handler({event, data}) for every message while the component lives.
export function useLive(handler) {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const l = (m) => ref.current(m);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
}

export function useLiveStatus() {
  const [s, setS] = useState(status);
  useEffect(() => {
    statusListeners.add(setS);
    setS(status);
    return () => statusListeners.delete(setS);
  }, []);
  return s;
}

// A function that runs `fn` once, `ms` after the last of a burst of calls,
// and at least every `maxWait` ms while the burst goes on (a busy fleet
// sends events without pause).
export function useDebounced(fn, ms, maxWait = ms * 5) {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef(null);
  const first = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useRef((...args) => {
    const now = Date.now();
    if (!timer.current) first.current = now;
    clearTimeout(timer.current);
    const wait = Math.max(0, Math.min(ms, first.current + maxWait - now));
    timer.current = setTimeout(() => {
      timer.current = null;
      fnRef.current(...args);
    }, wait);
  }).current;
}
