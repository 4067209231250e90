// Reading the API from a view: the latest answer and error of a GET, read again when asked,
// every few seconds, and as soon as the browser says the network is back. An answer that
// comes after a newer one was asked for is dropped, so a slow look never undoes a quicker,
// later one. A look that found the server unreachable is marked `quiet`: the view says so
// without alarm, since it heals by itself.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { ApiError, api } from './api.js';

/**
 * GETs `path` (nothing while it is null) when it or `deps` change, and every `every`
 * milliseconds when given: [value, error, reload, stale], `stale` while the value shown
 * answers an earlier path than the latest asked (a view marks itself busy meanwhile).
 * `root`: the path is outside `/api/v1` (`/metrics`).
 */
export function useLoad(path, deps = [], every = 0, { root = false } = {}) {
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  const [round, setRound] = useState(0);
  // The path the value answers: until the latest one's answer comes, the value shown is an
  // earlier path's.
  const [answered, setAnswered] = useState(null);
  useEffect(() => {
    setError(null);
    if (!path) return undefined;
    let latest = 0;
    let current = true;
    const run = () => {
      const asked = ++latest;
      api('GET', path, undefined, { root }).then(
        (v) => current && asked === latest && (setValue(v), setError(null), setAnswered(path)),
        (e) => {
          if (!current || asked !== latest) return;
          if (e instanceof ApiError && e.status === 0) e.quiet = true;
          setError(e);
        },
      );
    };
    run();
    const timer = every ? setInterval(run, every) : null;
    addEventListener('online', run);
    return () => {
      current = false;
      if (timer) clearInterval(timer);
      removeEventListener('online', run);
    };
  }, [path, round, every, root, ...deps]);
  return [value, error, () => setRound((r) => r + 1), path !== null && answered !== path];
}
