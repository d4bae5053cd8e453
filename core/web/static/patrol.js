// The patrol under way: positions from navigator.geolocation are kept on the phone (localStorage)
// and sent in batches; a batch that fails stays for the next try, so the route survives a lost
// signal. Ending the patrol sends what is left first.
(function () {
  const box = document.getElementById("lz-patrol");
  if (!box) return;
  const KEY = "lz-patrol-points:" + box.dataset.patrol;
  const BATCH = 20, EVERY_MS = 15000;
  const count = box.querySelector("[data-lz-patrol-count]");
  const distance = box.querySelector("[data-lz-patrol-distance]");
  const status = box.querySelector("[data-lz-patrol-status]");
  let sent = Number(count.textContent) || 0;
  let lastSend = 0, inFlight = null;

  const load = () => { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } };
  const save = (points) => localStorage.setItem(KEY, JSON.stringify(points));
  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)liuzhi_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : document.querySelector("meta[name=csrf-token]").content;
  }
  function show() { count.textContent = String(sent + load().length); }

  async function send() {
    // A batch under way (slow on a weak signal): wait for it, then send what came after it, so
    // ending the patrol meanwhile still sends the whole route.
    while (inFlight) await inFlight;
    const points = load();
    if (!points.length || !navigator.onLine) return;
    const batch = points.slice(0, 200);
    inFlight = fetch(box.dataset.points, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ points: batch }),
    }).then(async (response) => {
      if (!response.ok) return;
      const result = await response.json();
      const sentAt = new Set(batch.map((p) => p.t));
      save(load().filter((p) => !sentAt.has(p.t)));
      sent = result.point_count; distance.textContent = String(result.distance_m);
      lastSend = Date.now();
    }).catch(() => {}).finally(() => { inFlight = null; show(); });
    return inFlight;
  }

  function record(position) {
    const c = position.coords;
    const points = load();
    const t = Math.round(position.timestamp || Date.now());
    if (points.length && points[points.length - 1].t === t) return;
    points.push({ t, lon: c.longitude, lat: c.latitude, acc: c.accuracy });
    save(points);
    show();
    if (sent === 0 || points.length >= BATCH || Date.now() - lastSend > EVERY_MS) send();
  }

  if (!("geolocation" in navigator)) { status.textContent = box.dataset.noGps; return; }
  const fail = () => { status.textContent = box.dataset.noGps; };
  navigator.geolocation.watchPosition(record, fail, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  window.addEventListener("online", send);
  setInterval(send, EVERY_MS);
  show();

  const end = document.getElementById("lz-patrol-end");
  if (end) end.addEventListener("submit", () => { send(); }, { capture: true });
  window.lzPatrol = { send, pending: () => load().length };
})();
