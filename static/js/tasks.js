// The task pages: a form marked data-confirm (the card's «Удалить») asks before it is sent.
// No inline scripts anywhere (CSP script-src 'self').
document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
});
