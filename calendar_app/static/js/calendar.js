// The calendar's week and day grid: native HTML5 drag and drop of an event the reader may change
// (the server marks it draggable) onto a half-hour slot of any day, or, for an all-day event, onto a
// day's all-day cell. Nothing moves here: the drop POSTs to the event's data-move-url and the
// server's answer — the calendar again, with the move or the refusal as a message — replaces
// #calendar. Listeners sit on the document, so a grid swapped in by htmx needs no setup.
// No inline scripts anywhere (CSP script-src 'self').
(() => {
  "use strict";
  const SLOT = '[data-testid="calendar-slot"]';
  let dragged = null;

  const elementOf = (node) => (node instanceof Element ? node : node && node.parentElement);

  // Where a drop lands: a slot, or under another item of a column the slot at the pointer's height.
  function targetOf(e) {
    const el = elementOf(e.target);
    if (!el || !dragged) return null;
    if (dragged.dataset.kind === "allday") return el.closest(".cal-allday[data-start]");
    const slot = el.closest(SLOT);
    if (slot) return slot;
    const column = el.closest(".cal-column");
    if (!column) return null;
    return [...column.querySelectorAll(SLOT)].find((s) => {
      const box = s.getBoundingClientRect();
      return e.clientY >= box.top && e.clientY < box.bottom;
    }) || null;
  }

  function clearTargets() {
    document.querySelectorAll(".cal-drop-target").forEach((t) => t.classList.remove("cal-drop-target"));
  }

  function endDrag() {
    if (dragged) {
      dragged.classList.remove("is-dragging");
      dragged.closest(".cal-grid")?.classList.remove("cal-dragging");
    }
    dragged = null;
    clearTargets();
  }

  document.addEventListener("dragstart", (e) => {
    const item = elementOf(e.target)?.closest('.cal-event[draggable="true"]');
    if (!item) return;
    dragged = item;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.dataset.moveUrl);
    item.classList.add("is-dragging");
    // Once the drag has its picture, the other items let the drop through to the slots under them.
    setTimeout(() => item.closest(".cal-grid")?.classList.add("cal-dragging"), 0);
  });

  document.addEventListener("dragover", (e) => {
    const target = targetOf(e);
    if (!target) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!target.classList.contains("cal-drop-target")) {
      clearTargets();
      target.classList.add("cal-drop-target");
    }
  });

  document.addEventListener("drop", (e) => {
    const target = targetOf(e);
    if (!target) return;
    e.preventDefault();
    const item = dragged;
    const values = { start: target.dataset.start, version: item.dataset.version || "" };
    if (item.dataset.occurrence) values.occurrence = item.dataset.occurrence;
    endDrag();
    item.classList.add("is-moving");
    if (!window.htmx) return;
    htmx.ajax("POST", item.dataset.moveUrl, { target: "#calendar", swap: "innerHTML", values })
      .catch(() => item.classList.remove("is-moving"));
  });

  document.addEventListener("dragend", endDrag);
})();

// The profile's feed panel: «Новая ссылка» and «Отозвать» ask first («Скопировать» is crm.js's).
(() => {
  "use strict";
  document.addEventListener("submit", (e) => {
    const form = e.target instanceof Element && e.target.closest("form[data-calendar-confirm]");
    if (form && !window.confirm(form.dataset.calendarConfirm)) e.preventDefault();
  });
})();
