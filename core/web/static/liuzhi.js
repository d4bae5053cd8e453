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
