// Small shell behaviour only: the phone menu toggle and the unread badge's visibility.
document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-lz-toggle]");
  if (!btn) return;
  const target = document.getElementById(btn.dataset.lzToggle);
  const open = target.classList.toggle("open");
  btn.setAttribute("aria-expanded", open ? "true" : "false");
});
document.addEventListener("htmx:sseMessage", (e) => {
  const badge = document.getElementById("lz-unread");
  if (badge) badge.hidden = badge.textContent.trim() === "0";
});
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
