// 随手拍: fill longitude/latitude from the phone when asked, preview the chosen photos, and show the
// open reports nearby of the chosen category whenever it or the place changes (routes/resident.py
// report_nearby answers the list alone to a request marked HX-Request, as it would to htmx).
(function () {
  "use strict";
  function setup() {
    var form = document.getElementById("ss-report");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var button = document.getElementById("ss-locate");
    var status = document.getElementById("ss-locate-status");
    var lon = document.getElementById("f-lon");
    var lat = document.getElementById("f-lat");
    if (button) {
      if (!("geolocation" in navigator)) button.hidden = true;
      button.addEventListener("click", function () {
        status.textContent = button.dataset.busy;
        navigator.geolocation.getCurrentPosition(
          function (pos) {
            lon.value = pos.coords.longitude.toFixed(6);
            lat.value = pos.coords.latitude.toFixed(6);
            status.textContent = "";
            // Browsers give WGS84; the map's pin and the nearby list follow (htmx listens too).
            var coord = form.querySelector("[name=coord_system]");
            if (coord) coord.value = "wgs84";
            form.dispatchEvent(new CustomEvent("ss-located", { bubbles: true }));
          },
          function () { status.textContent = button.dataset.failed; },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    }
    var nearby = document.getElementById("ss-nearby");
    if (nearby && nearby.dataset.ssNearby) {
      var asked = 0;
      var ask = function () {
        var body = new URLSearchParams();
        ["_csrf_token", "category", "lon", "lat", "coord_system", "source"].forEach(function (name) {
          var field = form.querySelector("[name=" + name + "]");
          if (field) body.append(name, field.value);
        });
        var mine = ++asked;  // only the latest answer is shown
        fetch(nearby.dataset.ssNearby, { method: "POST", body: body, credentials: "same-origin",
                                         headers: { "HX-Request": "true" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null && mine === asked) nearby.innerHTML = html; })
          .catch(function () { /* no signal: the form still sends */ });
      };
      ["f-category", "f-lon", "f-lat"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field) field.addEventListener("change", ask);
      });
      form.addEventListener("ss-located", ask);
    }
    var input = document.getElementById("f-photos");
    var preview = document.getElementById("ss-preview");
    if (input && preview) {
      input.addEventListener("change", function () {
        preview.replaceChildren();
        Array.prototype.slice.call(input.files, 0, Number(input.dataset.max || 6)).forEach(function (file) {
          if (!/^image\//.test(file.type)) return;
          var img = document.createElement("img");
          img.src = URL.createObjectURL(file);
          img.width = 96;
          img.alt = file.name;
          img.onload = function () { URL.revokeObjectURL(img.src); };
          preview.appendChild(img);
        });
      });
    }
  }
  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
  setup();
})();
