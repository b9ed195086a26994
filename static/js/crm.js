// Small glue for htmx and Bootstrap; no inline scripts anywhere (CSP: script-src 'self').
document.addEventListener("DOMContentLoaded", () => {
  const modalEl = document.getElementById("crm-modal");
  if (!modalEl || !window.bootstrap) return;
  const modal = bootstrap.Modal.getOrCreateInstance(modalEl);
  // A partial swapped into the modal opens it; the server closes it with HX-Trigger: crm:close-modal.
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target.id === "crm-modal-content") modal.show();
  });
  // A close asked for while the modal is still fading in (a quick save) would be ignored by
  // Bootstrap: remember it and close once it is shown.
  let showing = false;
  let closeAsked = false;
  modalEl.addEventListener("show.bs.modal", () => { showing = true; closeAsked = false; });
  modalEl.addEventListener("shown.bs.modal", () => {
    showing = false;
    if (closeAsked) { closeAsked = false; modal.hide(); }
  });
  document.body.addEventListener("crm:close-modal", () => {
    if (showing) closeAsked = true;
    else modal.hide();
  });
  // So would a «Закрыть» / «Отмена» clicked while it fades in (a quick user, a busy machine):
  // Bootstrap's own dismiss handler does nothing then. Close it once it is shown.
  modalEl.addEventListener("click", (e) => {
    if (showing && e.target.closest('[data-bs-dismiss="modal"]')) closeAsked = true;
  });
});

// A form marked data-submit-when-changed (e.g. «Сменить воронку») can be submitted only after its
// select leaves the value it showed: submitting the current value would do nothing. htmx.onLoad
// runs for the page and for every piece htmx swaps in (a card refreshed after a move).
document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  htmx.onLoad((root) => root.querySelectorAll("form[data-submit-when-changed]").forEach((form) => {
    const select = form.querySelector("select");
    const button = form.querySelector("[type=submit]");
    if (!select || !button) return;
    const initial = select.value;
    const sync = () => { button.disabled = select.value === initial; };
    select.addEventListener("change", sync);
    sync();
  }));
});

// A fieldset marked data-enabled-by="<checkbox id>" (the conversion dialog's deal fields) is usable
// only while that checkbox is ticked. Delegated: the dialogs arrive later through htmx.
document.addEventListener("change", (e) => {
  if (!e.target.id) return;
  document.querySelectorAll(`fieldset[data-enabled-by="${CSS.escape(e.target.id)}"]`).forEach((fieldset) => {
    fieldset.disabled = !e.target.checked;
  });
});

// A strip that scrolls sideways on a phone (a card's status bar, the pipeline tabs) shows its
// current item: without this a lead in «Выход на ЛПР» opened with its status off screen. Only the
// strip scrolls — element.scrollIntoView would move the page as well.
function showCurrentInStrips(root) {
  root.querySelectorAll(".crm-status-bar, .deals-pipelines").forEach((strip) => {
    const current = strip.querySelector(".crm-step-current, .deals-step-current, .nav-link.active");
    if (!current || strip.scrollWidth <= strip.clientWidth) return;
    const stripBox = strip.getBoundingClientRect();
    const box = current.getBoundingClientRect();
    strip.scrollLeft += box.left - stripBox.left - (stripBox.width - box.width) / 2;
  });
}
document.addEventListener("DOMContentLoaded", () => showCurrentInStrips(document));
document.addEventListener("htmx:afterSwap", (e) => showCurrentInStrips(e.detail.target.parentElement || document));

// «Скопировать» beside an address (the calendar's feed, a file's public link): data-copy names the
// input whose value goes to the clipboard — or is selected, where the clipboard API is not allowed
// (plain http) — and data-copied what the button says for a moment after.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  const source = button && document.querySelector(button.dataset.copy);
  if (!source) return;
  source.select();
  const said = button.textContent;
  const done = () => {
    button.textContent = button.dataset.copied || said;
    setTimeout(() => { button.textContent = said; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(source.value).then(done, () => { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
