// The courier app's service worker: the app's files (immutable, per build) cached when it
// is installed and served from the cache; its page from the network, or the cached copy
// when offline. The API is never cached: offers and deliveries are live or nothing.

const BUILD = '{{assets}}';
const CACHE = `ordo-courier-${BUILD}`;
/** The app's files, as the server lists them for this build. */
const SHELL = {{courier_shell}};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(['/courier', ...SHELL])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('ordo-courier-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith(`${BUILD}/`)) {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const hit = await cache.match(event.request);
        if (hit) return hit;
        const response = await fetch(event.request);
        if (response.ok) cache.put(event.request, response.clone());
        return response;
      }),
    );
  } else if (url.pathname === '/courier') {
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put('/courier', copy));
          return response;
        })
        .catch(() => caches.match('/courier')),
    );
  }
});
