// The offline shell. Installing fetches the page and everything it links (trunk's hashed
// scripts, wasm and styles, the worker, the index manifest), so that after one visit the site
// opens with the network off. Every same-origin GET is answered from the network when it can
// be, and from this cache when it cannot. Models, shards and the catalog are not stored here:
// the page verifies them against the manifest and keeps them in its own Cache API store.
const SHELL = "celebrityfaces-shell-v1";
const PAGE_CACHED = /\/(models\/[^/]+|index-shards\/[^/]+\.bin|index-shards\/catalog\.json)$/;
// trunk's file names, and the workers' (scripts/hash-workers.mjs), carry a hash of their
// content: a cached copy is never stale.
const HASHED = /-[0-9a-f]{16}(_bg)?\.(js|wasm|css)$/;
const ALWAYS = ["./", "manifest.webmanifest", "icon.svg", "worker_loader.js", "index-shards/manifest.json"];
// The face worker's loader names its script and wasm, by their hash (scripts/hash-workers.mjs).
const LOADERS = ["worker_loader.js"];

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
        const response = await fetch(url, { cache: "no-cache" });
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

async function cacheThenNetwork(request) {
  const cached = await (await caches.open(SHELL)).match(request);
  return cached ?? networkThenCache(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || PAGE_CACHED.test(url.pathname)) return;
  event.respondWith(HASHED.test(url.pathname) ? cacheThenNetwork(request) : networkThenCache(request));
});
