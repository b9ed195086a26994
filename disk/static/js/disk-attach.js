// The attachments panel of a record's card: loads disk.js (the uploader) once per page, and
// «Скопировать» puts a public link in the clipboard (the rest is htmx).
//
// The panel may come back into a page (an event's card is a modal opened again and again; htmx
// runs the scripts of what it swaps in): this file and disk.js bind on the document, so each must
// run once, or a dropped file would be uploaded twice.
(() => {
  "use strict";
  if (window.diskAttachReady) return;
  window.diskAttachReady = true;

  const me = document.currentScript;
  const uploader = me && me.dataset.diskJs;
  if (uploader && !document.querySelector(`script[src="${uploader}"]`)) {
    const script = document.createElement("script");
    script.src = uploader;
    document.head.appendChild(script);
  }

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-disk-copy]");
    if (!button) return;
    const input = document.querySelector(button.dataset.diskCopy);
    if (!input) return;
    input.select();
    const done = () => { button.textContent = button.dataset.copied; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, () => { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
