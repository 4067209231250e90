// Reading the API from a view: the latest answer and error of a GET, read again when asked,
// every few seconds, and as soon as the browser says the network is back. An answer that
// comes after a newer one was asked for is dropped, so a slow look never undoes a quicker,
// later one. A look that found the server unreachable is marked `quiet`: the view says so
// without alarm, since it heals by itself.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { ApiError, api } from './api.js';

/**
 * GETs `path` (nothing while it is null) when it or `deps` change, and every `every`
 * milliseconds when given: [value, error, reload].
 */
export function useLoad(path, deps = [], every = 0) {
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    setError(null);
    if (!path) return undefined;
    let latest = 0;
    let current = true;
    const run = () => {
      const asked = ++latest;
      api('GET', path).then(
        (v) => current && asked === latest && (setValue(v), setError(null)),
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
  }, [path, round, every, ...deps]);
  return [value, error, () => setRound((r) => r + 1)];
}
