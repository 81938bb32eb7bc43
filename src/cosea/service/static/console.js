// cosea console: small behaviours on top of htmx. No inline scripts (the CSP forbids them).
document.addEventListener("DOMContentLoaded", function () {
  // A decision needs a reason before any of its buttons submits.
  var form = document.getElementById("decision-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var reason = document.getElementById("reason");
      if (reason && !reason.value.trim()) {
        event.preventDefault();
        reason.focus();
      }
    });
  }
});
document.addEventListener("htmx:responseError", function (event) {
  // Show refusals (e.g. a wellness setting that keeps media blurred) where the click happened.
  var xhr = event.detail.xhr;
  if (xhr && xhr.status === 403 && event.detail.target) {
    event.detail.target.insertAdjacentHTML("beforeend", xhr.responseText);
  }
});
