// Drawing a grid node's boundary: click points on the SVG canvas ([data-lz-draw]); the form posts
// them in SVG units with the projection they were drawn with, and the server turns them into lon/lat.
(function () {
  "use strict";
  if (window.lzGridDraw) { window.lzGridDraw(document); return; }

  function setup(form) {
    const svg = form.querySelector("[data-lz-draw]");
    const shape = form.querySelector("[data-lz-shape]");
    const dots = form.querySelector("[data-lz-dots]");
    const field = form.querySelector("[data-lz-points]");
    const save = form.querySelector("[data-lz-save]");
    const count = form.querySelector("[data-lz-count]");
    if (!svg || !shape || !field) return;
    const width = svg.viewBox.baseVal.width || 1000;
    const radius = width / 250;
    const points = [];

    function redraw() {
      const text = points.map((p) => p[0].toFixed(2) + "," + p[1].toFixed(2)).join(" ");
      shape.setAttribute("points", text);
      field.value = text;
      dots.replaceChildren(...points.map((p) => {
        const c = document.createElementNS("http://www.w3.org/2000/svg", "circle");
        c.setAttribute("cx", p[0]); c.setAttribute("cy", p[1]); c.setAttribute("r", radius);
        return c;
      }));
      if (save) save.disabled = points.length < 3;
      if (count) count.textContent = points.length ? String(points.length) : "";
    }

    svg.addEventListener("click", (e) => {
      const ctm = svg.getScreenCTM();
      if (!ctm) return;
      const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
      points.push([p.x, p.y]);
      redraw();
    });
    form.querySelector("[data-lz-undo]")?.addEventListener("click", () => { points.pop(); redraw(); });
    form.querySelector("[data-lz-clear]")?.addEventListener("click", () => { points.length = 0; redraw(); });
    redraw();
  }

  function init(root) {
    root.querySelectorAll("[data-lz-draw-form]:not([data-lz-ready])").forEach((form) => {
      form.setAttribute("data-lz-ready", "");
      setup(form);
    });
  }

  window.lzGridDraw = init;
  document.addEventListener("htmx:load", (e) => init(e.target.ownerDocument ? e.target : document));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => init(document));
  else init(document);
})();
