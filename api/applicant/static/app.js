// The applicant's app: a preview of each chosen scan with its size and type checked at once,
// the postal fields only for a mailed delivery, and fields checked as they are typed by the
// server's own validators (GET /app/check). The server checks everything again on submit.
(function () {
  "use strict";
  var TYPES = ["application/pdf", "image/jpeg", "image/png"];

  function show(el, text) { if (!el) return; el.textContent = text || ""; el.hidden = !text; }

  document.querySelectorAll('input[type="file"][data-max-bytes]').forEach(function (input) {
    input.addEventListener("change", function () {
      var box = input.closest(".field");
      var img = box.querySelector(".preview"), name = box.querySelector(".preview-name");
      var problem = box.querySelector(".client-error");
      var file = input.files && input.files[0];
      show(problem, ""); img.hidden = true; show(name, "");
      input.removeAttribute("aria-invalid");
      if (!file) return;
      var max = Number(input.dataset.maxBytes);
      var message = file.size > max ? "文件不能超过 " + Math.floor(max / 1048576) + " MB"
        : TYPES.indexOf(file.type) < 0 ? "只接受 PDF、JPEG 或 PNG 格式的扫描件"
        : file.size === 0 ? "文件是空的，请重新选择" : "";
      if (message) {  // the file is not sent: the form asks for another
        show(problem, message);
        input.value = "";
        input.setAttribute("aria-invalid", "true");
        return;
      }
      show(name, file.name + "（" + Math.ceil(file.size / 1024) + " KB）");
      if (file.type !== "application/pdf") { img.src = URL.createObjectURL(file); img.hidden = false; }
    });
  });

  // A field (or radio group) changed since the server told its problem: the message goes (the
  // server checks again on submit).
  document.querySelectorAll("form [aria-describedby]").forEach(function (field) {
    var told = document.getElementById(field.getAttribute("aria-describedby"));
    var clear = function () {
      if (told) told.hidden = true;
      field.removeAttribute("aria-invalid");
      var summary = document.getElementById("form-error");
      if (summary && !document.querySelector(".field-error[id]:not([hidden])")) summary.hidden = true;
    };
    field.addEventListener("input", clear);
    field.addEventListener("change", clear);
  });

  var mailOnly = document.querySelector(".mail-only");
  document.querySelectorAll('input[name="delivery_method"]').forEach(function (radio) {
    radio.addEventListener("change", function () { if (mailOnly) mailOnly.hidden = radio.value === "pickup" && radio.checked; });
  });

  document.querySelectorAll("input[data-check]").forEach(function (input) {
    var timer;
    var problem = input.closest(".field").querySelector(".client-error");
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!input.value.trim()) { show(problem, ""); return; }
        var url = "/app/check/" + input.dataset.check + "?value=" + encodeURIComponent(input.value.trim().toUpperCase());
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (answer) {
          show(problem, answer.problem);
          if (answer.problem) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
        }).catch(function () {});
      }, 300);
    });
  });
})();
