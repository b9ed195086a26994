// Small glue for htmx and Bootstrap; no inline scripts anywhere (CSP: script-src 'self').
document.addEventListener("DOMContentLoaded", () => {
  const modalEl = document.getElementById("crm-modal");
  if (!modalEl || !window.bootstrap) return;
  const modal = bootstrap.Modal.getOrCreateInstance(modalEl);
  // A partial swapped into the modal opens it; the server closes it with HX-Trigger: crm:close-modal.
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target.id === "crm-modal-content") modal.show();
  });
  document.body.addEventListener("crm:close-modal", () => modal.hide());
});
