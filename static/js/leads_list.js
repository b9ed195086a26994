// The leads list: «select all» on the page, the count of ticked rows, and the bulk buttons
// enabled only when something is ticked. Without JavaScript the form still works: the server
// answers «Не выбрано ни одного лида» to an empty selection.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("lead-bulk-form");
  if (!form) return;
  const all = document.getElementById("lead-select-all");
  const rows = () => Array.from(form.querySelectorAll("input.crm-row-check"));
  const badge = document.getElementById("lead-selected");
  const buttons = Array.from(form.querySelectorAll(".crm-bulk-submit"));

  const refresh = () => {
    const boxes = rows();
    const ticked = boxes.filter((b) => b.checked).length;
    if (badge) {
      badge.querySelector("[data-count]").textContent = String(ticked);
      badge.classList.toggle("d-none", ticked === 0);
    }
    buttons.forEach((b) => { b.disabled = ticked === 0; });
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    boxes.forEach((b) => b.closest("tr")?.classList.toggle("table-active", b.checked));
  };

  all?.addEventListener("change", () => {
    rows().forEach((b) => { b.checked = all.checked; });
    refresh();
  });
  form.addEventListener("change", (e) => {
    if (e.target.classList?.contains("crm-row-check")) refresh();
  });
  refresh();
});
