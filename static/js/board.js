// The kanban boards (leads by status, deals by stage): native HTML5 drag and drop of cards onto
// columns, and a record card's refresh after a move. The server decides every move (POST to the
// card's data-move-url). A card never moves optimistically: it stays where it was until the
// server answers with the board's move event (HX-Trigger); a missing-fields, junk or refusal
// dialog opens in the shared modal instead (crm.js), and the card moves only once that dialog is
// saved. No inline scripts anywhere (CSP script-src 'self').
//
// The board element (.kanban-board[data-move-event]) says what differs between the boards:
//   data-move-event   the HX-Trigger event of a move ("lead-moved", "deal-moved");
//   data-record-attr  the card's attribute holding the record's id ("data-lead-id");
//   data-column-key   the column's and card's data-* key of the column ("status", "stage");
//   data-board-prefix the prefix of the board's ids and data attributes ("kanban": #kanban-live,
//                     #kanban-error, <template id="kanban-move-menu">, [data-kanban-move],
//                     [data-kanban-expand], [data-kanban-autosubmit]);
//   data-totals-url, data-totals-pending, data-error-text, data-offline-text.
// A record card page marks an element with data-reload-on="<move event>".
(() => {
  "use strict";

  // --- A record's card page: its status or stage bar, fields and history all change with a move ---
  // The page's content is fetched again and swapped in place (no full page load): the card, its
  // history and the message about the move, shown at the top.
  function initCards() {
    const events = new Set([...document.querySelectorAll("[data-reload-on]")].map((card) => card.dataset.reloadOn));
    events.forEach((event) => {
      document.body.addEventListener(event, () => {
        if (!window.htmx) { window.location.reload(); return; }
        htmx.ajax("GET", window.location.href, { target: "main.crm-content", select: "main.crm-content", swap: "outerHTML" })
          .then(() => window.scrollTo(0, 0));
      });
    });
  }

  function initBoard(board) {
    if (!window.htmx) return;
    const { moveEvent, recordAttr, columnKey, boardPrefix: prefix } = board.dataset;
    const moveButton = `[data-${prefix}-move]`;
    const live = document.getElementById(`${prefix}-live`);
    const errorBox = document.getElementById(`${prefix}-error`);
    let dragged = null;

    const elementOf = (node) => (node instanceof Element ? node : node && node.parentElement);
    const columnOf = (node) => elementOf(node)?.closest(".kanban-column") || null;
    const columnFor = (key) => board.querySelector(`.kanban-column[data-${columnKey}="${CSS.escape(String(key))}"]`);
    const cardFor = (id) => board.querySelector(`.kanban-card[${recordAttr}="${CSS.escape(String(id))}"]`);
    const recordOf = (card) => card.getAttribute(recordAttr);
    const columnKeyOf = (node) => node.dataset[columnKey];

    function say(text) {
      if (live) live.textContent = text || "";
    }

    function showError(text) {
      if (!errorBox) return;
      errorBox.textContent = text;
      errorBox.classList.remove("d-none");
    }

    function clearTargets() {
      board.querySelectorAll(".kanban-column.is-drop-target").forEach((c) => c.classList.remove("is-drop-target"));
    }

    function endDrag() {
      if (dragged) dragged.classList.remove("is-dragging");
      dragged = null;
      clearTargets();
    }

    // --- Drag and drop ---
    board.addEventListener("dragstart", (e) => {
      const card = elementOf(e.target)?.closest(".kanban-card");
      if (!card || card.getAttribute("draggable") !== "true" || card.classList.contains("is-moving")) return;
      closeMenu(false);
      dragged = card;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", recordOf(card));
      card.classList.add("is-dragging");
    });

    board.addEventListener("dragend", endDrag);

    // Near the board's left or right edge, a drag scrolls the columns (the board is wider than the screen).
    function autoscroll(x) {
      const box = board.getBoundingClientRect();
      const edge = Math.min(80, box.width / 6);
      if (x > box.right - edge) board.scrollLeft += 16;
      else if (x < box.left + edge) board.scrollLeft -= 16;
    }

    board.addEventListener("dragover", (e) => {
      if (!dragged) return;
      const column = columnOf(e.target);
      if (!column) return;
      e.preventDefault(); // allows the drop
      e.dataTransfer.dropEffect = "move";
      autoscroll(e.clientX);
      if (!column.classList.contains("is-drop-target")) {
        clearTargets();
        if (columnKeyOf(column) !== columnKeyOf(dragged)) column.classList.add("is-drop-target");
      }
    });

    board.addEventListener("dragleave", (e) => {
      const column = columnOf(e.target);
      if (column && !column.contains(elementOf(e.relatedTarget))) column.classList.remove("is-drop-target");
    });

    board.addEventListener("drop", (e) => {
      if (!dragged) return;
      e.preventDefault();
      const card = dragged;
      const column = columnOf(e.target);
      endDrag();
      // A card dropped on its own column stays; nothing is sent.
      if (!column || columnKeyOf(column) === columnKeyOf(card)) return;
      requestMove(card, columnKeyOf(column));
    });

    function requestMove(card, to) {
      errorBox?.classList.add("d-none");
      card.classList.add("is-moving");
      card.setAttribute("aria-busy", "true");
      const done = () => {
        card.classList.remove("is-moving");
        card.removeAttribute("aria-busy");
      };
      // htmx adds the CSRF header (hx-headers on <body>) and handles HX-Trigger / HX-Retarget / HX-Reswap.
      htmx.ajax("POST", card.dataset.moveUrl, { source: card, values: { to }, swap: "none" }).then(done, done);
    }

    // --- «Перевести в…»: one move menu for the whole board ---
    // The board's template renders the menu once (<template id="<prefix>-move-menu">); a card's
    // button opens a copy of it right under the button, aimed at that card's move URL and without
    // the card's current column. One menu is open at a time. A choice is sent exactly as a drop is.
    const menuTemplate = document.getElementById(`${prefix}-move-menu`);
    let menu = null; // the open one: { form, button, card }

    function closeMenu(refocus) {
      if (!menu) return;
      const { form, button } = menu;
      menu = null;
      form.remove();
      button.setAttribute("aria-expanded", "false");
      button.removeAttribute("aria-controls");
      if (refocus && button.isConnected) button.focus();
    }

    function openMenu(button) {
      const card = button.closest(".kanban-card");
      closeMenu(false);
      if (!card || !menuTemplate || card.classList.contains("is-moving")) return;
      const form = menuTemplate.content.firstElementChild.cloneNode(true);
      form.id = `${prefix}-move-menu-open`;
      form.action = card.dataset.moveUrl; // a real form: the action a submit would post to
      form.setAttribute("aria-label", button.textContent.trim());
      form.querySelectorAll(".kanban-move-option").forEach((option) => {
        option.hidden = option.value === columnKeyOf(card);
      });
      button.after(form);
      button.setAttribute("aria-expanded", "true");
      button.setAttribute("aria-controls", form.id);
      menu = { form, button, card };
      form.scrollIntoView({ block: "nearest" }); // the last card of a column: its menu in sight
      form.querySelector(".kanban-move-option:not([hidden])")?.focus();
    }

    board.addEventListener("click", (e) => {
      const button = elementOf(e.target)?.closest(moveButton);
      if (!button) return;
      if (menu && menu.button === button) closeMenu(true);
      else openMenu(button);
    });

    board.addEventListener("submit", (e) => {
      if (!menu || e.target !== menu.form) return;
      e.preventDefault();
      const { card } = menu;
      const to = e.submitter?.value;
      closeMenu(true);
      if (to && to !== columnKeyOf(card)) requestMove(card, to);
    });

    board.addEventListener("keydown", (e) => {
      if (!menu || !(menu.form.contains(e.target) || e.target === menu.button)) return;
      if (e.key === "Escape") {
        e.preventDefault();
        closeMenu(true);
      } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && menu.form.contains(e.target)) {
        e.preventDefault();
        const options = Array.from(menu.form.querySelectorAll(".kanban-move-option:not([hidden])"));
        const next = options.indexOf(e.target) + (e.key === "ArrowDown" ? 1 : -1);
        options[(next + options.length) % options.length]?.focus();
      }
    });

    // A click elsewhere, or Tab out of the menu (to anything but its button), closes it.
    document.addEventListener("pointerdown", (e) => {
      if (menu && !menu.form.contains(e.target) && !menu.button.contains(e.target)) closeMenu(false);
    });
    board.addEventListener("focusout", (e) => {
      if (!menu || !menu.form.contains(e.target) || !e.relatedTarget) return;
      if (!menu.form.contains(e.relatedTarget) && e.relatedTarget !== menu.button) closeMenu(false);
    });

    // --- The server moved a record (drop, the «Перевести в…» menu, or a dialog saved in the modal) ---
    function sortKey(card) {
      const [created, pk] = (card.dataset.created || "0_0").split("_");
      return [Number(created), Number(pk)];
    }

    function newer(a, b) {
      const [ca, pa] = sortKey(a);
      const [cb, pb] = sortKey(b);
      return ca > cb || (ca === cb && pa > pb);
    }

    function place(card, column) {
      const list = column.querySelector(".kanban-cards");
      // Keep the columns' order (newest first) among the cards loaded so far.
      const before = Array.from(list.querySelectorAll(":scope > .kanban-card")).find((other) => other !== card && newer(card, other));
      list.insertBefore(card, before || list.querySelector(":scope > .kanban-more"));
    }

    function freshCard(html) {
      const template = document.createElement("template");
      template.innerHTML = html;
      return template.content.querySelector(".kanban-card");
    }

    function refreshTotals() {
      // The server's counts and sums (out-of-band swaps): honest even when others moved records too.
      htmx.ajax("GET", board.dataset.totalsUrl, { source: board, target: board, swap: "none" });
    }

    document.body.addEventListener(moveEvent, (e) => {
      const detail = e.detail || {};
      const card = cardFor(detail.id);
      const target = columnFor(detail.to);
      if (card) {
        card.classList.remove("is-moving");
        card.removeAttribute("aria-busy");
        if (menu && menu.card === card) closeMenu(false);
        if (target && target.dataset.loaded === "1") {
          // Moving the card in the DOM drops the focus: a keyboard user keeps it on the card's button.
          const focused = card.contains(document.activeElement) ? document.activeElement : null;
          const keyboard = focused?.matches(":focus-visible");
          let node = card;
          // The server's fresh card (the deals board sends one): the dialog may have changed what it shows.
          const fresh = detail.card ? freshCard(detail.card) : null;
          if (fresh) {
            card.replaceWith(fresh);
            node = fresh;
          }
          node.dataset[columnKey] = String(detail.to); // the menu reads it when it opens
          place(node, target);
          const refocus = focused && (focused.isConnected ? focused : node.querySelector(moveButton));
          if (refocus && document.activeElement !== refocus) refocus.focus({ preventScroll: !keyboard });
          node.classList.remove("is-arrived");
          void node.offsetWidth; // restart the highlight animation
          node.classList.add("is-arrived");
        } else {
          card.remove(); // its column is collapsed and not loaded (or not on this board): it comes with that column
        }
      }
      say(detail.message);
      refreshTotals();
    });

    // --- Errors the server or the network gave to a move ---
    board.addEventListener("htmx:responseError", (e) => {
      if (elementOf(e.target)?.closest(".kanban-card")) showError(board.dataset.errorText);
    });
    board.addEventListener("htmx:sendError", (e) => {
      if (elementOf(e.target)?.closest(".kanban-card")) showError(board.dataset.offlineText);
    });

    // --- Collapsed closed columns: expand (and load the first page once) ---
    board.addEventListener("click", (e) => {
      const toggle = elementOf(e.target)?.closest(`[data-${prefix}-expand]`);
      if (!toggle) return;
      e.preventDefault();
      const column = toggle.closest(".kanban-column");
      const collapsed = column.classList.toggle("is-collapsed");
      toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
      toggle.textContent = collapsed ? toggle.dataset.showText : toggle.dataset.hideText;
      if (!collapsed && column.dataset.loaded !== "1") {
        column.dataset.loaded = "1";
        htmx.ajax("GET", column.dataset.url, { source: toggle, target: column.querySelector(".kanban-cards"), swap: "innerHTML" });
      }
    });

    // --- «Показать ещё»: a card that moved into a column may also come with its next page ---
    let dedupQueued = false;
    board.addEventListener("htmx:afterSwap", () => {
      // htmx fires this once per swapped element: tidy up once per swap.
      if (dedupQueued) return;
      dedupQueued = true;
      queueMicrotask(() => {
        dedupQueued = false;
        const seen = new Set();
        board.querySelectorAll(".kanban-card").forEach((card) => {
          if (!seen.has(recordOf(card))) seen.add(recordOf(card));
          else {
            if (menu && menu.card === card) closeMenu(false);
            card.remove();
          }
        });
      });
    });

    // --- Filters: a choice in a select of the filter bar applies at once ---
    document.querySelectorAll(`[data-${prefix}-autosubmit]`).forEach((input) => {
      input.addEventListener("change", () => input.form?.requestSubmit());
    });

    board.classList.add("is-live"); // shows the cards' «Перевести в…» buttons (hidden without JavaScript)
    // The counts and sums come right after the cards (the server renders the board without them).
    if (board.dataset.totalsPending === "1") refreshTotals();
  }

  function init() {
    initCards();
    document.querySelectorAll(".kanban-board[data-move-event]").forEach(initBoard);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
