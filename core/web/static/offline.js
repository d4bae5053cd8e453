// Phones in the field: register the service worker, keep what was typed in a form (drafts), and
// queue forms marked data-lz-queue in IndexedDB when there is no signal, sending them when it is
// back. Each queued form carries a client id, so the server writes it once however often it is sent.
(function () {
  const me = document.getElementById("lz-offline");
  if (!me) return;
  const DB = "liuzhi-offline", STORE = "outbox";
  const msg = (k) => me.dataset[k] || "";

  // ---- IndexedDB, promisified (one store: the outbox) ----
  function open() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function tx(mode, fn) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(out && "result" in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
    });
  }
  const all = () => tx("readonly", (s) => s.getAll());
  const put = (item) => tx("readwrite", (s) => s.put(item));
  const drop = (id) => tx("readwrite", (s) => s.delete(id));

  // ---- the 待发送 count and the list on 我的 ----
  async function refresh() {
    let items = [];
    try { items = await all(); } catch (e) { return; }
    const bar = document.querySelector("[data-lz-pending-bar]");
    if (bar) {
      bar.hidden = items.length === 0;
      bar.querySelector("[data-lz-pending-count]").textContent = String(items.length);
    }
    const list = document.querySelector("[data-lz-queue-list]");
    if (!list) return;
    list.replaceChildren();
    if (!items.length) {
      const li = document.createElement("li"); li.textContent = list.dataset.empty; list.append(li); return;
    }
    for (const item of items) {
      const li = document.createElement("li");
      const when = new Date(item.created).toLocaleString();
      li.textContent = `${item.title} · ${when} · ${item.status === "failed" ? list.dataset.failed + " (" + item.error + ")" : list.dataset.waiting} `;
      const btn = document.createElement("button");
      btn.type = "button"; btn.className = "secondary lz-small"; btn.textContent = list.dataset.discard;
      btn.addEventListener("click", async () => { await drop(item.id); refresh(); });
      li.append(btn); list.append(li);
    }
  }
  function flash(text) {
    const el = document.querySelector("[data-lz-flash]");
    if (!el || !text) return;
    el.textContent = text; el.hidden = false;
    setTimeout(() => { el.hidden = true; }, 6000);
  }

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)liuzhi_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  }
  function newId() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function stamp(form) {
    const field = form.querySelector("input[name=client_id]");
    if (field) field.value = newId();
  }

  // ---- sending the queue ----
  let sending = false;
  async function flush() {
    if (sending || !navigator.onLine) return;
    sending = true;
    let sent = 0, failed = 0;
    try {
      for (const item of await all()) {
        if (item.status === "failed") continue;
        const body = new FormData();
        for (const [k, v, name] of item.entries) {
          if (k === "_csrf_token") continue;
          if (v instanceof Blob) body.append(k, v, name || "photo.jpg"); else body.append(k, v);
        }
        body.append("_csrf_token", csrf());
        let response;
        try {
          response = await fetch(item.action, { method: "POST", body, credentials: "same-origin" });
        } catch (e) { break; }  // the signal went again: the rest waits
        if (new URL(response.url).pathname.endsWith("/login")) { flash(msg("signin")); break; }
        if (response.ok) { await drop(item.id); sent += 1; }
        else if (response.status === 403 || response.status >= 500) { break; }  // token or server: later
        else { item.status = "failed"; item.error = String(response.status); await put(item); failed += 1; }
      }
    } finally { sending = false; }
    await refresh();
    if (failed) flash(msg("failed")); else if (sent) flash(msg("sent"));
  }

  async function queue(form) {
    const entries = [];
    for (const [k, v] of new FormData(form).entries()) {
      if (v instanceof File) { if (v.size) entries.push([k, v, v.name]); } else entries.push([k, v]);
    }
    entries.push(["queued_at", String(Date.now())]);  // when it happened, for what it is linked to
    await put({ action: form.action, title: form.dataset.lzQueue, entries, created: Date.now(), status: "waiting" });
    clearDraft(form);
    form.reset();
    form.querySelectorAll("input[type=file]").forEach((el) => el.dispatchEvent(new Event("change", { bubbles: true })));
    stamp(form);
    window.scrollTo(0, 0);
    await refresh();
    flash(msg("queued"));
  }

  // ---- drafts: what was typed survives a lost page ----
  const draftKey = (form) => "lz-draft:" + location.pathname + ":" + form.dataset.lzDraft;
  function fields(form) {
    return Array.from(form.elements).filter((el) => el.name && !["hidden", "file", "submit", "button", "password"].includes(el.type));
  }
  function saveDraft(form) {
    const data = {};
    for (const el of fields(form)) data[el.name] = el.type === "checkbox" || el.type === "radio" ? el.checked : el.value;
    try { localStorage.setItem(draftKey(form), JSON.stringify(data)); } catch (e) { /* full or private mode */ }
  }
  function restoreDraft(form) {
    let data = null;
    try { data = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { data = null; }
    if (!data) return;
    for (const el of fields(form)) {
      if (!(el.name in data)) continue;
      if (el.type === "checkbox" || el.type === "radio") el.checked = !!data[el.name];
      else if (!el.value || el.defaultValue === el.value) el.value = data[el.name];
    }
  }
  function clearDraft(form) { if (form.dataset.lzDraft) localStorage.removeItem(draftKey(form)); }

  function setUp(root) {
    root.querySelectorAll("form[data-lz-draft]").forEach((form) => {
      restoreDraft(form);
      form.addEventListener("input", () => saveDraft(form));
    });
    root.querySelectorAll("form[data-lz-queue]").forEach((form) => {
      const field = form.querySelector("input[name=client_id]");
      if (field && !field.value) field.value = newId();
      form.addEventListener("submit", async (event) => {
        if (event.submitter && event.submitter.hasAttribute("formaction")) return;  // e.g. 我也遇到: online only
        event.preventDefault();
        if (!navigator.onLine) { await queue(form); return; }
        if (window.lzPatrol) await window.lzPatrol.send();  // the route's last points before its end
        let response;
        try {
          response = await fetch(form.action, { method: "POST", body: new FormData(form, event.submitter), credentials: "same-origin" });
        } catch (e) { await queue(form); return; }
        if (response.ok && response.redirected) { clearDraft(form); location.assign(response.url); return; }
        // A form with errors (or a page to show): let the browser show the server's answer.
        const html = await response.text();
        document.open(); document.write(html); document.close();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUp(document);
    document.querySelectorAll("[data-lz-send-now]").forEach((b) => b.addEventListener("click", flush));
    refresh().then(flush);
  });
  window.addEventListener("online", flush);
  window.lzOffline = { flush, refresh, all };  // for the patrol page and tests

  // After the page has loaded: on a weak signal the worker's install and its copies of the tab
  // pages must not compete with the page's own files.
  const afterLoad = (fn) => (document.readyState === "complete" ? fn() : window.addEventListener("load", fn, { once: true }));
  if ("serviceWorker" in navigator && me.dataset.sw) afterLoad(() => {
    navigator.serviceWorker.register(me.dataset.sw, { scope: me.dataset.scope }).then(async () => {
      const reg = await navigator.serviceWorker.ready;
      // Offered for offline use: the tab pages and a page whose form can wait for the signal.
      const urls = document.querySelector("form[data-lz-queue]") ? [location.href] : [];
      document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach((el) => urls.push(el.href || el.src));
      document.querySelectorAll(".lz-tabbar a[href]").forEach((a) => urls.push(a.href));
      if (reg.active) reg.active.postMessage({ type: "cache", urls });
    }).catch(() => {});
  });
  if ("serviceWorker" in navigator && me.dataset.sw) {
    document.addEventListener("submit", (event) => {
      if (event.target.action && new URL(event.target.action).pathname.endsWith("/logout") && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage({ type: "forget" });
      }
    });
  }
})();
