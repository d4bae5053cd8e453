/* 文化德治 pages: the participants chart (Chart.js) and the themed-places map (Leaflet), both read
   their data from JSON in the page; the map has no tile layer (no outside network): it draws the
   grid's boundaries and the places on a blank base. Runs on load and after htmx swaps. */
(function () {
  "use strict";
  function charts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll('script[type="application/json"][data-cv-chart]').forEach(function (tag) {
      var canvas = document.getElementById(tag.getAttribute("data-cv-chart"));
      if (!canvas) return;
      var spec = JSON.parse(tag.textContent);
      var old = Chart.getChart(canvas);
      if (old) old.destroy();
      new Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels, datasets: [{ label: spec.label, data: spec.values, backgroundColor: "#b3261e" }] },
        options: { responsive: true, maintainAspectRatio: false, indexAxis: "y", plugins: { legend: { display: false } } }
      });
    });
  }
  var COLOURS = { stairwell: "#b3261e", park: "#2e7d32" };
  function maps(root) {
    if (typeof L === "undefined") return;
    root.querySelectorAll("[data-cv-map]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var data = JSON.parse(document.getElementById(el.getAttribute("data-cv-map")).textContent);
      var map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
      var areas = L.geoJSON(data, {
        filter: function (f) { return f.properties.kind === "area"; },
        style: function (f) {
          var grid = f.properties.level === "grid";
          return { color: grid ? "#78909c" : "#455a64", weight: grid ? 1 : 2, fillColor: "#fffdf7", fillOpacity: 0.6 };
        },
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
      }).addTo(map);
      var points = L.geoJSON(data, {
        filter: function (f) { return f.properties.kind !== "area"; },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillOpacity: 0.95,
                                          fillColor: COLOURS[f.properties.kind] || "#1565c0" });
        },
        onEachFeature: function (f, layer) {
          var box = document.createElement("div");
          var strong = document.createElement("strong");
          strong.textContent = f.properties.name;
          box.appendChild(strong);
          if (f.properties.theme) { box.appendChild(document.createElement("br")); box.appendChild(document.createTextNode(f.properties.theme)); }
          layer.bindPopup(box);
          layer.on("add", function () { if (layer._path) layer._path.setAttribute("data-testid", "place-marker"); });
        }
      }).addTo(map);
      var bounds = points.getLayers().length ? points.getBounds() : areas.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.3)); else map.setView([40.95, 117.7], 11);
    });
  }
  function run(root) { charts(root || document); maps(root || document); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { run(document); });
  else run(document);
  document.addEventListener("htmx:afterSwap", function (e) { run(e.target); });
})();
