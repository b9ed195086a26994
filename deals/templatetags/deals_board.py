"""The deals board's cards as HTML, built in Python.

Why not a template per card: a board shows up to a hundred cards, and the card template — however
lean (it only printed values) — cost ~0.4 ms a card in Django's template engine (variable
resolution, autoescaping, the include): 60 cards were half of a board's time at 300 000 deals
(BENCHMARKS.md, «Where the time goes», Board 2: 27.6 of 64.8 ms). The same markup joined here from
escaped values costs a few microseconds a card. The values are those deals.views_board.decorate
prepared (`board_*`) and the next touch's mark (crm.lists.add_marks)."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


@register.filter
def board_cards(cards) -> SafeString:
    """The cards of a column page (deals decorated by deals.views_board.decorate), in order."""
    texts = {
        "responsible": escape(gettext("Ответственный")),
        "close": escape(gettext("Предполагаемая дата закрытия")),
        "overdue": escape(gettext("срок закрытия прошёл")),
        "move": escape(gettext("Перевести в…")),
    }
    return mark_safe("".join(_card(deal, texts) for deal in cards))  # every value above is escaped


def _card(deal, t: dict[str, str]) -> str:
    movable = deal.board_can_move
    title = escape(deal.title)
    parts = [
        f'<article class="kanban-card{"" if movable else " is-locked"}" id="board-card-{deal.pk}" '
        f'data-deal-id="{deal.pk}" data-stage="{deal.stage_id}" data-created="{escape(deal.board_cursor)}" '
        f'data-move-url="{escape(deal.board_move_url)}" data-testid="board-card" '
        f'draggable="{"true" if movable else "false"}" aria-label="{title}">'
        f'<a class="kanban-card-title" href="{escape(deal.board_url)}" draggable="false">{title}</a>'
    ]
    if deal.board_company:
        parts.append(f'<div class="kanban-card-company">{escape(deal.board_company)}</div>')
    if deal.board_amount:
        parts.append(f'<div class="kanban-card-amount">{escape(deal.board_amount)}</div>')
    parts.append(f'<div class="kanban-card-meta"><span class="kanban-card-user" title="{t["responsible"]}">'
                 f'{escape(deal.board_responsible)}</span>')
    if deal.board_close:
        overdue = deal.board_overdue
        flag, note = ("⚠ ", f'<span class="visually-hidden"> ({t["overdue"]})</span>') if overdue else ("", "")
        parts.append(f'<time datetime="{escape(deal.board_close_iso)}" title="{t["close"]}" '
                     f'class="deals-card-close{" is-overdue" if overdue else ""}">{flag}{escape(deal.board_close)}'
                     f'{note}</time>')
    parts.append("</div>")
    mark = getattr(deal, "mark", None)
    if mark:
        parts.append(f'<div class="kanban-card-touch {escape(mark.css)}" title="{escape(mark.title)}" '
                     f'data-testid="{escape(mark.testid)}">{escape(mark.text)}</div>')
    if movable:
        parts.append(f'<button type="button" class="kanban-card-move" data-board-move aria-expanded="false">'
                     f'{t["move"]}</button>')
    parts.append("</article>")
    return "".join(parts)
