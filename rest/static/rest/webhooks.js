// «Отозвать» a webhook asks first: its address stops working at once and cannot be brought back.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.restConfirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
