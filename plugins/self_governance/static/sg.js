/* 居民自治 pages: a bar chart for each <canvas class="sg-chart" data-labels data-values>
   (Chart.js, vendored), drawn on load and after htmx swaps. */
(function () {
  "use strict";
  function draw(root) {
    if (typeof Chart === "undefined") return;
    (root || document).querySelectorAll("canvas.sg-chart").forEach(function (canvas) {
      var labels, values;
      try { labels = JSON.parse(canvas.dataset.labels); values = JSON.parse(canvas.dataset.values); } catch (e) { return; }
      var old = Chart.getChart(canvas);
      if (old) old.destroy();
      new Chart(canvas, {
        type: "bar",
        data: { labels: labels, datasets: [{ data: values, backgroundColor: "#b3261e" }] },
        options: { responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();
