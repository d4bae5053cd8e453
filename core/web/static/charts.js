/* Draws the charts of a page: each <script type="application/json" data-chart="ID"> holds
   {type, labels, datasets: [{label, data}], suffix} for <canvas id="ID">. Chart.js is loaded by
   the page from /static/vendor/chartjs/. Runs on load and after htmx swaps the page. */
(function () {
  "use strict";
  var COLOURS = ["#b3261e", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037"];

  function draw(root) {
    if (typeof Chart === "undefined") return;
    (root || document).querySelectorAll('script[type="application/json"][data-chart]').forEach(function (tag) {
      var canvas = document.getElementById(tag.getAttribute("data-chart"));
      if (!canvas) return;
      var spec;
      try { spec = JSON.parse(tag.textContent); } catch (e) { return; }
      var old = Chart.getChart(canvas);
      if (old) old.destroy();
      var suffix = spec.suffix || "";
      new Chart(canvas, {
        type: spec.type || "bar",
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (d, i) {
            var colour = COLOURS[i % COLOURS.length];
            return { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour,
                     spanGaps: true, tension: 0.2, hidden: i > 2 };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          scales: { y: { beginAtZero: true, suggestedMax: suffix === "%" ? 100 : undefined,
                         ticks: { callback: function (v) { return v + suffix; } } } },
          plugins: {
            legend: { position: "bottom" },
            tooltip: { callbacks: { label: function (ctx) {
              var v = ctx.parsed.y;
              return ctx.dataset.label + ": " + (v === null ? "—" : v + suffix);
            } } }
          }
        }
      });
    });
  }

  // Chart.js may arrive after this file (scripts inserted by an htmx swap load in any order).
  function whenReady(tries) {
    if (typeof Chart !== "undefined") { draw(document); return; }
    if (tries > 0) setTimeout(function () { whenReady(tries - 1); }, 50);
  }
  if (window.lzChartsLoaded) { whenReady(100); return; }
  window.lzChartsLoaded = true;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { whenReady(100); });
  } else {
    whenReady(100);
  }
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();
