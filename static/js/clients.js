// Company and contact forms: «+ Телефон» / «+ E-mail» add a row to the phones and e-mails formset
// (a copy of its <template> with the next index), and a row marked «×» fades out until saved
// (CSS). The value's placeholder and on-screen keyboard follow the row's kind.
function crmCommKind(row) {
  const kind = row.querySelector("select[name$='-kind']");
  const value = row.querySelector("input[name$='-value']");
  if (!kind || !value) return;
  const email = kind.value === "email";
  value.placeholder = email ? value.dataset.placeholderEmail : value.dataset.placeholderPhone;
  value.inputMode = email ? "email" : "tel";
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-comm-add]");
  if (!button) return;
  const fieldset = button.closest(".crm-communications");
  const total = fieldset.querySelector("input[name$='-TOTAL_FORMS']");
  const template = fieldset.querySelector("template[data-comm-template]");
  const index = parseInt(total.value, 10) || 0;
  const holder = document.createElement("div");
  holder.innerHTML = template.innerHTML.replaceAll("__prefix__", String(index));
  const row = holder.firstElementChild;
  const kind = row.querySelector("select[name$='-kind']");
  if (kind) kind.value = button.dataset.commAdd;
  fieldset.querySelector("[data-comm-rows]").appendChild(row);
  total.value = String(index + 1);
  crmCommKind(row);
  const value = row.querySelector("input[name$='-value']");
  if (value) value.focus();
});

document.addEventListener("change", (event) => {
  if (event.target.matches("select[name$='-kind']")) crmCommKind(event.target.closest("[data-comm-row]"));
});
