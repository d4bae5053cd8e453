// Liuzhi service worker: pages offered for offline use network-first with the last copy as fallback,
// static files stale-while-revalidate. It hard-codes no file list: pages tell it what they use (offline.js posts
// their stylesheets, scripts and tab links), so renamed or content-hashed URLs need no change here.
const PAGES = "liuzhi-pages-v1";
const STATIC = "liuzhi-static-v1";
const NETWORK_WAIT_MS = 6000;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([PAGES, STATIC]);
    for (const key of await caches.keys()) if (!keep.has(key)) await caches.delete(key);
    await self.clients.claim();
  })());
});

function isStatic(url) { return url.pathname.startsWith("/static/"); }

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "cache" && Array.isArray(data.urls)) {
    event.waitUntil(Promise.all(data.urls.map(async (href) => {
      const url = new URL(href, self.location.href);
      if (url.origin !== self.location.origin) return;
      const cache = await caches.open(isStatic(url) ? STATIC : PAGES);
      if (!isStatic(url) && (await cache.match(url.href))) return;  // kept already: refreshed on each visit
      try {
        const response = await fetch(url.href, { credentials: "same-origin" });
        if (response.ok && !response.redirected) await cache.put(url.href, response);
      } catch (e) { /* offline: try again on the next page */ }
    })));
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES));  // signed out: no one else's pages stay on this phone
  }
});

async function networkFirst(request) {
  const cache = await caches.open(PAGES);
  const network = fetch(request).then(async (response) => {
    if (response.ok && new URL(response.url).pathname.endsWith("/login")) await caches.delete(PAGES);
    // Only pages offered for offline use (the tab pages and forms that queue) are kept: the
    // register and other personal pages a worker reads are not left on the phone.
    else if (response.ok && !response.redirected && (await cache.match(request.url))) await cache.put(request.url, response.clone());
    return response;
  });
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NETWORK_WAIT_MS));
  try {
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    const kept = await cache.match(request.url, { ignoreSearch: false });
    return kept || (await network);
  } catch (e) {
    const kept = (await cache.match(request.url)) || (await cache.match(request.url, { ignoreSearch: true }));
    if (kept) return kept;
    return new Response(
      "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
      "<title>离线 · Offline</title><p>此页面尚未保存在手机上，请在有信号时再打开。</p>" +
      "<p>This page is not saved on this phone yet: open it again when there is a signal.</p>" +
      "<p><a href='javascript:history.back()'>‹</a></p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

async function staleWhileRevalidate(request) {
  const cache = await caches.open(STATIC);
  const kept = await cache.match(request);
  const fresh = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  }).catch(() => kept);
  return kept || fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isStatic(url)) event.respondWith(staleWhileRevalidate(request));
  else if (request.mode === "navigate" && url.pathname.startsWith(new URL(self.registration.scope).pathname)) {
    event.respondWith(networkFirst(request));
  }
});
