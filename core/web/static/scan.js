// Staff check-in scanner: reads a participant's QR code with the camera where the browser has the
// Barcode Detection API (Chrome on Android, the phones field staff use); elsewhere the code is
// typed or pasted into the form, which is always there. No library: nothing to vendor.
(function () {
  "use strict";
  function start(box) {
    var form = document.querySelector("[data-lz-scanner-form]");
    var video = box.querySelector("[data-lz-scanner-video]");
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            form.querySelector("input[name=token]").value = codes[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }, function () { window.requestAnimationFrame(tick); });
      };
      tick();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-lz-scanner]");
    if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    box.hidden = false;
    box.querySelector("[data-lz-scanner-start]").addEventListener("click", function () { start(box); });
  });
})();
