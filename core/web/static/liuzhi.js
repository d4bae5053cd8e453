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
