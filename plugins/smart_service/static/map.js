/* 服务智治 maps (Leaflet, served from /static/vendor/leaflet/): every [data-ss-map] element draws the
   layers its data attributes name, each a GeoJSON URL of the app (routes/maps.py):
     data-areas    grid boundaries          data-events   staff: events (coloured by board column)
     data-reports  residents: public view   data-point    "lon,lat": one point (an event's page)
     data-tiles    the tenant's tile URL (empty: boundaries on a plain background)
     data-pick     the report form: a click or a drag drops the pin and fills longitude/latitude
   The map (and its legend) is hidden until this runs, so without JavaScript the page is the plain form/list.
   Boards refresh their pins whenever htmx swaps a column. */
(function () {
  "use strict";
  if (window.ssMapInit) { window.ssMapInit(document); return; }  // loaded again by an htmx swap
  var COLOURS = { new: "#ef6c00", dispatched: "#1565c0", handling: "#6a1b9a", inspection: "#00838f",
                  overdue: "#b3261e", final: "#757575" };
  var DEFAULT_VIEW = [40.95, 117.8];  // used only when nothing at all has a place

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : { type: "FeatureCollection", features: [] }; })
      .catch(function () { return { type: "FeatureCollection", features: [] }; });
  }

  function text(tag, value) {
    var el = document.createElement(tag);
    el.textContent = value;
    return el;
  }

  function eventPopup(p) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.number;
    box.appendChild(link);
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", p.title));
    box.appendChild(document.createElement("br"));
    box.appendChild(text("small", [p.category, p.state_label].filter(Boolean).join(" · ")));
    return box;
  }

  function reportPopup(p) {
    var box = document.createElement("div");
    box.appendChild(text("strong", p.number));
    box.appendChild(document.createElement("br"));
    box.appendChild(text("small", p.service_name));
    return box;
  }

  function tag(layer, testid, number) {
    layer.on("add", function () {
      if (!layer._path) return;
      layer._path.setAttribute("data-testid", testid);
      if (number) layer._path.setAttribute("data-number", number);
    });
  }

  function setup(el) {
    if (el.dataset.ssReady || typeof L === "undefined") return;
    el.dataset.ssReady = "1";
    var wrap = el.closest("[data-ss-map-wrap]");
    if (wrap) wrap.hidden = false;
    var pick = el.hasAttribute("data-pick");
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, {
        maxZoom: 18,
        subdomains: /tianditu/.test(el.dataset.tiles) ? "01234567" : "abc",
        attribution: el.dataset.attribution || ""
      }).addTo(map);
    }
    var areas = L.geoJSON(null, {
      interactive: !pick,
      style: function (f) {
        var deep = f.properties.depth >= 3;
        return { color: deep ? "#78909c" : "#455a64", weight: deep ? 1 : 2, fillColor: "#fffdf7",
                 fillOpacity: deep ? 0.35 : 0.15 };
      },
      onEachFeature: function (f, layer) { if (!pick) layer.bindTooltip(f.properties.name, { sticky: true }); }
    }).addTo(map);
    var pins = L.featureGroup().addTo(map);
    var fitted = false;

    function fit() {
      if (fitted) return;
      var bounds = L.latLngBounds([]);
      if (areas.getLayers().length) bounds.extend(areas.getBounds());
      // Reporting happens in one's own area: the form frames it, not every pin of the district.
      if (pins.getLayers().length && !(pick && bounds.isValid())) bounds.extend(pins.getBounds());
      if (bounds.isValid()) { map.fitBounds(bounds.pad(0.1), { maxZoom: 17 }); fitted = true; }
      else map.setView(DEFAULT_VIEW, 12);
    }

    function loadEvents() {
      var loads = [];
      if (el.dataset.events) {
        loads.push(fetchJSON(el.dataset.events).then(function (data) {
          return L.geoJSON(data, {
            pointToLayer: function (f, latlng) {
              var m = L.circleMarker(latlng, { radius: f.properties.overdue ? 8 : 6, color: "#fff", weight: 2,
                                                fillOpacity: 0.95, fillColor: COLOURS[f.properties.group] || "#1565c0" });
              tag(m, "event-pin", f.properties.number);
              return m;
            },
            onEachFeature: function (f, layer) { layer.bindPopup(eventPopup(f.properties)); }
          });
        }));
      }
      if (el.dataset.reports) {
        loads.push(fetchJSON(el.dataset.reports).then(function (data) {
          return L.geoJSON(data, {
            interactive: !pick,
            pointToLayer: function (f, latlng) {
              var m = L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 2, fillOpacity: 0.9,
                                                fillColor: f.properties.mine ? "#b3261e" : "#546e7a" });
              tag(m, "report-pin", f.properties.number);
              return m;
            },
            onEachFeature: function (f, layer) { if (!pick) layer.bindPopup(reportPopup(f.properties)); }
          });
        }));
      }
      if (el.dataset.point) {
        var xy = el.dataset.point.split(",").map(Number);
        var m = L.circleMarker([xy[1], xy[0]], { radius: 8, color: "#fff", weight: 2, fillOpacity: 0.95,
                                                 fillColor: "#b3261e" });
        tag(m, "event-pin", el.dataset.number || "");
        loads.push(Promise.resolve(m));
      }
      return Promise.all(loads).then(function (layers) {
        pins.clearLayers();
        layers.forEach(function (l) { pins.addLayer(l); });
        count();
      });
    }

    // How many pins are drawn (paths exist once the map has a view: after fit() the first time).
    function count() {
      el.setAttribute("data-pins", String(el.querySelectorAll("[data-testid$='-pin']").length));
    }

    var ready = el.dataset.areas ? fetchJSON(el.dataset.areas).then(function (d) { areas.addData(d); }) : Promise.resolve();
    ready.then(loadEvents).then(function () {
      fit();
      if (pick) pickMode(el, map);
      count();
      el.setAttribute("data-ready", "1");
    });
    el.ssReload = loadEvents;
    el.ssMap = map;  // for tests and for other scripts of the page
  }

  // The report form: the pin writes longitude/latitude (WGS84, like the map) and leaves the grid to
  // be found from the point; typing coordinates or "use my location" moves the pin.
  function pickMode(el, map) {
    var form = el.closest("form");
    if (!form) return;
    var lon = form.querySelector("[name=lon]");
    var lat = form.querySelector("[name=lat]");
    var coord = form.querySelector("[name=coord_system]");
    var node = form.querySelector("[name=node_id]");
    var marker = null;

    function place(latlng, fromFields) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: el.dataset.pinLabel || "" }).addTo(map);
        marker.on("add", function () { if (marker._icon) marker._icon.setAttribute("data-testid", "drop-pin"); });
        if (marker._icon) marker._icon.setAttribute("data-testid", "drop-pin");
        marker.on("dragend", function () { write(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      if (fromFields) map.setView(latlng, Math.max(map.getZoom(), 16));
    }

    function write(latlng) {
      lon.value = latlng.lng.toFixed(6);
      lat.value = latlng.lat.toFixed(6);
      if (coord) coord.value = "wgs84";
      if (node && node.querySelector("option[value='']")) node.value = "";
      lon.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function fromFields() {
      var x = parseFloat(lon.value), y = parseFloat(lat.value);
      if (isFinite(x) && isFinite(y) && (!coord || coord.value === "wgs84")) place(L.latLng(y, x), true);
    }

    map.on("click", function (e) { place(e.latlng, false); write(e.latlng); });
    form.addEventListener("ss-located", fromFields);
    lon.addEventListener("input", fromFields);
    lat.addEventListener("input", fromFields);
    fromFields();
  }

  function init(root) {
    (root || document).querySelectorAll("[data-ss-map]").forEach(setup);
  }

  window.ssMapInit = init;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
  document.addEventListener("htmx:afterSwap", function (e) {
    init(e.target);
    // A board column was re-rendered: its events changed, so do the pins.
    if (e.target.closest && e.target.closest(".ss-board")) {
      document.querySelectorAll("[data-ss-map][data-events]").forEach(function (m) {
        clearTimeout(m.ssTimer);
        m.ssTimer = setTimeout(function () { if (m.ssReload) m.ssReload(); }, 300);
      });
    }
  });
})();
