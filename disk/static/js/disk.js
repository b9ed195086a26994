// Uploads to the disk: files dropped on a drop zone or chosen with its file input go up one request
// each (XHR, for its progress), each with a progress bar; when all are done the zone fires
// `disk:uploaded`, so whatever lists the files refreshes by htmx (hx-trigger="disk:uploaded from:…").
//
//   <div data-disk-drop data-upload-url="…" data-msg-done="Загружено" data-msg-failed="Не удалось загрузить">
//     <input type="file" multiple data-disk-input>
//     <ul data-disk-progress></ul>
//   </div>
//
// The upload view answers 2xx, or 4xx with {"error": "<Russian message>"} shown beside the file.
// Optional data-max-size (bytes) and data-msg-too-large refuse a larger file without sending it.
// Everything is bound on the document, so zones swapped in by htmx work with no setup.
(function () {
  "use strict";

  function csrfToken() {
    // base.html puts the token in <body hx-headers>, for htmx; this script reads it from there.
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function row(zone, file) {
    const list = zone.querySelector("[data-disk-progress]");
    const item = document.createElement("li");
    item.className = "list-group-item small disk-upload";
    item.dataset.testid = "disk-upload";
    const name = document.createElement("div");
    name.className = "text-truncate";
    name.textContent = file.name;
    const bar = document.createElement("div");
    bar.className = "progress mt-1";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", file.name);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    const fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    const status = document.createElement("div");
    status.className = "disk-upload-status";
    item.append(name, bar, status);
    if (list) list.appendChild(item);
    return { item, bar, fill, status };
  }

  function upload(zone, file) {
    return new Promise((resolve) => {
      const shown = row(zone, file);
      // Known too large before a byte is sent: the server would cut the body off at the limit, and a
      // browser whose upload is cut off often sees a broken connection instead of the server's words.
      const maxSize = Number(zone.dataset.maxSize || 0);
      if (maxSize && file.size > maxSize) {
        fail(shown, zone.dataset.msgTooLarge || zone.dataset.msgFailed || "");
        resolve();
        return;
      }
      const data = new FormData();
      data.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", zone.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.round((event.loaded / event.total) * 100);
        shown.fill.style.width = `${percent}%`;
        shown.bar.setAttribute("aria-valuenow", String(percent));
      });
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          shown.fill.style.width = "100%";
          shown.fill.classList.add("bg-success");
          shown.status.textContent = zone.dataset.msgDone || "";
          shown.item.dataset.state = "done";
        } else {
          let message = zone.dataset.msgFailed || "";
          try {
            message = JSON.parse(xhr.responseText).error || message;
          } catch (e) { /* not JSON: the generic message */ }
          fail(shown, message);
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        fail(shown, zone.dataset.msgFailed || "");
        resolve();
      });
      xhr.send(data);
    });
  }

  function fail(shown, message) {
    shown.fill.classList.add("bg-danger");
    shown.fill.style.width = "100%";
    shown.status.className = "disk-upload-status text-danger";
    shown.status.textContent = message;
    shown.item.dataset.state = "failed";
  }

  async function send(zone, files) {
    if (!files || !files.length || !zone.dataset.uploadUrl) return;
    // One after another: a dozen parallel uploads would share the bandwidth and all finish last.
    for (const file of Array.from(files)) {
      await upload(zone, file);
    }
    zone.dispatchEvent(new CustomEvent("disk:uploaded", { bubbles: true }));
  }

  function zoneOf(event) {
    return event.target instanceof Element ? event.target.closest("[data-disk-drop]") : null;
  }

  function carriesFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  }

  ["dragenter", "dragover"].forEach((type) => {
    document.addEventListener(type, (event) => {
      const zone = zoneOf(event);
      if (!zone || !carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("disk-drop-active");
    });
  });
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("disk-drop-active");
  });
  document.addEventListener("drop", (event) => {
    const zone = zoneOf(event);
    if (!zone || !carriesFiles(event)) return;
    event.preventDefault();
    zone.classList.remove("disk-drop-active");
    send(zone, event.dataTransfer.files);
  });
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("[data-disk-input]")) return;
    const zone = input.closest("[data-disk-drop]");
    if (zone) send(zone, input.files).then(() => { input.value = ""; });
  });
})();

// The card's comment form («Прикрепить файлы», disk/_comment_file_field.html): the chosen files are
// named beside the button; files dropped onto the form join them (they go with the comment when it
// is sent, not at once); a file over data-max-size makes the input invalid with the reason, so the
// form is not sent only for the server to cut the body off.
(function () {
  "use strict";

  function inputOf(form) {
    return form ? form.querySelector("[data-disk-comment-files]") : null;
  }

  function formOf(event) {
    const form = event.target instanceof Element ? event.target.closest("form") : null;
    return inputOf(form) ? form : null;
  }

  function show(input) {
    const files = Array.from(input.files || []);
    const chosen = input.form && input.form.querySelector("[data-disk-comment-chosen]");
    if (chosen) chosen.textContent = files.map((file) => file.name).join(", ");
    const maxSize = Number(input.dataset.maxSize || 0);
    const big = maxSize ? files.find((file) => file.size > maxSize) : null;
    input.setCustomValidity(big ? `«${big.name}»: ${input.dataset.msgTooLarge || ""}` : "");
    if (big) input.reportValidity();
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.matches("[data-disk-comment-files]")) show(input);
  });
  ["dragenter", "dragover"].forEach((type) => {
    document.addEventListener(type, (event) => {
      const form = formOf(event);
      if (!form || !event.dataTransfer || !Array.from(event.dataTransfer.types || []).includes("Files")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("disk-drop-active");
    });
  });
  document.addEventListener("dragleave", (event) => {
    const form = formOf(event);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("disk-drop-active");
  });
  document.addEventListener("drop", (event) => {
    const form = formOf(event);
    if (!form || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    form.classList.remove("disk-drop-active");
    const input = inputOf(form);
    const all = new DataTransfer();
    for (const file of [...Array.from(input.files || []), ...Array.from(event.dataTransfer.files)]) all.items.add(file);
    input.files = all.files;
    show(input);
  });
})();

// On a phone the storages are one strip that scrolls sideways: show the current one (only the
// strip scrolls; scrollIntoView would move the page too).
document.addEventListener("DOMContentLoaded", () => {
  const strip = document.querySelector(".disk-storages");
  const current = strip && strip.querySelector(".nav-link.active");
  if (!current || strip.scrollWidth <= strip.clientWidth) return;
  const box = current.getBoundingClientRect();
  const stripBox = strip.getBoundingClientRect();
  strip.scrollLeft += box.left - stripBox.left - (stripBox.width - box.width) / 2;
});
