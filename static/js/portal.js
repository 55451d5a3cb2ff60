// Progressive enhancement: everything works without this file.
(function () {
  "use strict";

  // Tell the server the browser's time zone, so dates show in local time.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* keep UTC */ }

  // A dialog swapped in by htmx opens as a modal: focus stays inside, Escape closes it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var dialog = event.detail.target.querySelector("dialog");
    if (dialog && !dialog.open) {
      dialog.addEventListener("close", function () { dialog.remove(); });
      dialog.showModal();
      var first = dialog.querySelector("input:not([type=hidden]), textarea, button");
      if (first) { first.focus(); }
    }
    var menu = document.querySelector("details.menu[open]");
    if (menu) { menu.removeAttribute("open"); }
  });

  // A refused preview or confirmation (400, or 409 when the money changed meanwhile)
  // comes back as the dialog with its errors and new figures: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && event.detail.target.id === "modal-host") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // "All that is left" / "All in escrow": the amount is filled in where it is typed,
  // then the button submits it for a preview like any typed amount.
  document.addEventListener("click", function (event) {
    var filler = event.target.closest("button[data-fill]");
    var field = filler && document.getElementById(filler.getAttribute("data-fill"));
    if (field) { field.value = filler.value; }
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    var dialog = closer && closer.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }
  });

  // The offer form shows the terms of the kind chosen (hourly or fixed price); without
  // this script it shows both, each under its own heading.
  function showOfferKind() {
    var chosen = document.querySelector("#offer-form input[name=kind]:checked");
    document.querySelectorAll("#offer-form [data-offer-kind]").forEach(function (fieldset) {
      fieldset.hidden = Boolean(chosen) && fieldset.getAttribute("data-offer-kind") !== chosen.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("#offer-form input[name=kind]")) { showOfferKind(); }
  });
  document.addEventListener("htmx:afterSwap", showOfferKind);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", showOfferKind);
  } else {
    showOfferKind();
  }

  // Close the options menu with Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (menu) { menu.removeAttribute("open"); });
    }
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
})();
