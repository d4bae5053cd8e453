// Small shell behaviour only: the phone menu toggle, the bell's live count, files loaded late.
// (Served in one file with offline.js: core/web/assets.py BUNDLES.)
document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-lz-toggle]");
  if (!btn) return;
  const target = document.getElementById(btn.dataset.lzToggle);
  const open = target.classList.toggle("open");
  btn.setAttribute("aria-expanded", open ? "true" : "false");
});
// After the page's load event: on a weak signal nothing of this may compete with the page's own files.
function lzAfterLoad(fn) {
  if (document.readyState === "complete") fn(); else window.addEventListener("load", fn, { once: true });
}
// The bell's count, live from the server's "unread" events (an EventSource holds a connection).
lzAfterLoad(() => {
  const bell = document.querySelector("[data-lz-stream]");
  const badge = document.getElementById("lz-unread");
  if (!bell || !badge || !window.EventSource) return;
  new EventSource(bell.dataset.lzStream).addEventListener("unread", (e) => {
    badge.textContent = e.data;
    badge.hidden = e.data.trim() === "0";
  });
});
// htmx requests carry the CSRF token (htmx itself comes only to pages that use it).
document.addEventListener("htmx:configRequest", (e) => {
  const meta = document.querySelector("meta[name=csrf-token]");
  if (meta) e.detail.headers["X-CSRFToken"] = meta.content;
});
// A heavy part of a page (a map's library) loads once the page has loaded and its box comes near the
// screen: [data-lz-lazy] names its hashed files in data-lz-css and data-lz-js (space-separated);
// the stylesheets apply before the scripts run, the scripts run in order. Until then, and without
// JavaScript, the page works without that part.
const lzLoaded = new Set();
function lzLoadCss(href) {
  return new Promise((resolve) => {
    if (lzLoaded.has(href)) return resolve();
    lzLoaded.add(href);
    const link = Object.assign(document.createElement("link"), { rel: "stylesheet", href });
    link.onload = link.onerror = () => resolve();
    document.head.append(link);
  });
}
function lzLoadJs(src) {
  return new Promise((resolve) => {
    if (lzLoaded.has(src)) return resolve();
    lzLoaded.add(src);
    const script = Object.assign(document.createElement("script"), { src, async: false });
    script.onload = script.onerror = () => resolve();
    document.head.append(script);
  });
}
function lzLazyLoad(el) {
  const words = (v) => (v || "").split(/\s+/).filter(Boolean);
  const scripts = words(el.dataset.lzJs);
  // Download the scripts alongside the stylesheets; run them once the stylesheets apply.
  scripts.forEach((src) => {
    if (lzLoaded.has(src)) return;
    document.head.append(Object.assign(document.createElement("link"), { rel: "preload", as: "script", href: src }));
  });
  Promise.all(words(el.dataset.lzCss).map(lzLoadCss))
    .then(() => scripts.reduce((done, src) => done.then(() => lzLoadJs(src)), Promise.resolve()))
    .then(() => el.dispatchEvent(new CustomEvent("lz:loaded", { bubbles: true })));
}
const lzLazyWatch = window.IntersectionObserver && new IntersectionObserver((entries) => {
  entries.forEach((entry) => {
    if (!entry.isIntersecting) return;
    lzLazyWatch.unobserve(entry.target);
    lzLazyLoad(entry.target);
  });
}, { rootMargin: "50% 0px" });
function lzLazy(root) {
  root.querySelectorAll("[data-lz-lazy]:not([data-lz-lazy-seen])").forEach((el) => {
    el.setAttribute("data-lz-lazy-seen", "");
    if (lzLazyWatch) lzLazyWatch.observe(el); else lzLazyLoad(el);
  });
}
lzAfterLoad(() => lzLazy(document));
document.addEventListener("htmx:afterSettle", (e) => { if (document.readyState === "complete") lzLazy(e.target); });
// Colours that come from data (branding, map legends): set through the CSSOM, which CSP allows,
// instead of style="" attributes, which it does not.
function lzPaint(root) {
  root.querySelectorAll("[data-lz-bg]").forEach((el) => { el.style.background = el.dataset.lzBg; });
  root.querySelectorAll("[data-lz-width]").forEach((el) => { el.style.width = el.dataset.lzWidth + "%"; });
}
document.addEventListener("DOMContentLoaded", () => lzPaint(document));
document.addEventListener("htmx:afterSwap", (e) => lzPaint(e.target));
// A button with data-confirm asks before its form is sent (no inline onclick under CSP).
document.addEventListener("click", (e) => {
  const btn = e.target.closest("button[data-confirm]");
  if (btn && !window.confirm(btn.dataset.confirm)) e.preventDefault();
});
// Form errors, one convention for core and every plugin (docs/plugins.md "Forms"): the handler
// answers 400 (422 is accepted too) with the form again — the same markup a 200 would put in the
// request's hx-target — and it is swapped like a 200 (htmx leaves 4xx unswapped by default).
document.addEventListener("htmx:beforeSwap", (e) => {
  const status = e.detail.xhr.status;
  if (status === 400 || status === 422) {
    e.detail.shouldSwap = true;
    e.detail.isError = false;
  }
});
