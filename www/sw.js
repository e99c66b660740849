// The offline shell. Installing fetches the page and everything it links (trunk's hashed
// scripts, wasm and styles, the worker, the index manifest), so that after one visit the site
// opens with the network off. Every same-origin GET is answered from the network when it can
// be, and from this cache when it cannot; files named by their hash from this cache first; the
// face worker's wasm by the browser's own HTTP cache (WORKER_WASM below). Models, shards and
// the catalog are not stored here: the page verifies them against the manifest and keeps them
// in its own Cache API store.
const SHELL = "celebrityfaces-shell-v1";
const PAGE_CACHED = /\/(models\/[^/]+|index-shards\/[^/]+\.bin|index-shards\/catalog\.json)$/;
// trunk's file names, and the workers' (scripts/hash-workers.mjs), carry a hash of their
// content: a cached copy is never stale.
const HASHED = /-[0-9a-f]{16}(_bg)?\.(js|wasm|css)$/;
const ALWAYS = ["./", "manifest.webmanifest", "icon.svg", "worker_loader.js", "index-shards/manifest.json"];
// The face worker's loader names its script and wasm, by their hash (scripts/hash-workers.mjs).
const LOADERS = ["worker_loader.js"];
// The face worker's wasm is left to the browser's HTTP cache: V8 keeps its compiled code (the
// optimised code of the first visit's hot functions) beside the response it compiled, and a
// response given from this cache is another one, compiled again on the second visit
// (measured: a second visit 1.0-1.1 s to its matches against 0.7-0.8 when left alone). This
// cache still keeps a copy, which the loader asks for at `?offline` when the plain request
// fails.
const WORKER_WASM = /\/worker-[0-9a-f]{16}_bg\.wasm$/;
const OFFLINE_COPY = "?offline";

async function precache() {
  const cache = await caches.open(SHELL);
  const scope = self.registration.scope;
  const page = await fetch(scope, { cache: "no-cache" });
  const html = await page.clone().text();
  await cache.put(scope, page);
  const linked = [...html.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]);
  const loaded = await Promise.all(
    LOADERS.map(async (loader) => {
      const text = await (await fetch(new URL(loader, scope), { cache: "no-cache" })).text();
      return [...text.matchAll(/"\.\/([^"]+)"/g)].map((m) => m[1]);
    }),
  );
  const urls = new Set([...ALWAYS, ...linked, ...loaded.flat()].map((path) => new URL(path, scope).href));
  await Promise.all(
    [...urls]
      .filter((url) => new URL(url).origin === self.location.origin && url !== scope)
      .map(async (url) => {
        // A file named by its hash is taken from the HTTP cache when there: asked again, it
        // would come whole from a host without validators, and a new copy there would make
        // V8's compiled code of it stale.
        const response = await fetch(url, { cache: HASHED.test(new URL(url).pathname) ? "default" : "no-cache" });
        if (response.ok) await cache.put(url, response);
      }),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("celebrityfaces-shell-") && name !== SHELL) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function networkThenCache(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (offline) {
    const cached =
      (await cache.match(request)) ??
      (await cache.match(request, { ignoreSearch: true })) ??
      (request.mode === "navigate" ? await cache.match(self.registration.scope) : undefined);
    if (cached) return cached;
    throw offline;
  }
}

/** The copy kept at install of a file asked for at its address plus `?offline`. */
async function offlineCopy(request) {
  const cached = await (await caches.open(SHELL)).match(request, { ignoreSearch: true });
  return cached ?? fetch(request);
}

async function cacheThenNetwork(request) {
  const cached = await (await caches.open(SHELL)).match(request);
  return cached ?? networkThenCache(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || PAGE_CACHED.test(url.pathname)) return;
  if (WORKER_WASM.test(url.pathname)) {
    if (url.search === OFFLINE_COPY) event.respondWith(offlineCopy(request));
    return;
  }
  event.respondWith(HASHED.test(url.pathname) ? cacheThenNetwork(request) : networkThenCache(request));
});
