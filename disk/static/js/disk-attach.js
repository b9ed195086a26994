// The attachments panel of a record's card: loads disk.js (the uploader) once per page (the rest is
// htmx; «Скопировать» is crm.js's).
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
})();
