"""The attachments panel of the records' cards (registered into crm.cards when the app is ready:
the CRM apps never import the disk): «Файлы» on a lead, contact, company, task or event, «Документы»
on a deal. It lists the record's files (name → download under its own name, size, who, when), and
for whoever may change the record: a drop zone and «Прикрепить файл» (disk.js posting to
`disk:attach_upload`), «Открепить», and a public link per file to send a client (a КП) — created,
copied from the panel, revoked. The list part refreshes by htmx when disk.js fires `disk:uploaded`.

The deal's «Документы» are the documents of the deal in one place, as the issue asks: its own
files, and below them — read-only — those attached to its company and contacts the user may see
(the contract with the company, a contact's power of attorney), without copying them into the deal.
Uploads from the deal card go to the deal.

Two queries at most whatever the number of files: the record's attachments — on a deal with its
company's and contacts' in the same query (the card has prefetched its contacts; the content
types are cached) — and their live public links (for whoever may change the record)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Action
from crm.cards import Panel, register

from . import selectors
from .services import ATTACHABLE


def attachable(record) -> bool:
    """A kind of record files attach to; the profile's panels are asked about a user too."""
    meta = getattr(record, "_meta", None)
    return meta is not None and meta.label_lower in ATTACHABLE


def _clients(user, record: models.Model) -> list:
    """A deal's company and contacts the user may see, whose files its «Документы» list too."""
    if record._meta.label_lower != "deals.deal":
        return []
    from deals.selectors import visible_clients_of

    company_visible, contacts, _hidden = visible_clients_of(user, record)
    return ([record.company] if company_visible else []) + contacts


def panel_context(user, record: models.Model) -> dict:
    kind = record._meta.label_lower
    clients = _clients(user, record)
    if clients:
        # The deal's files and its clients' in one query, told apart here; each client's marked
        # with where it comes from.
        sources = {(ContentType.objects.get_for_model(r).pk, r.pk): r for r in clients}
        rows, related = [], []
        for attachment in selectors.attachments_of(user, [record, *clients]):
            source = sources.get((attachment.content_type_id, attachment.object_id))
            if source is None:
                rows.append(attachment)
            else:
                attachment.source = f"{source._meta.verbose_name}: {source}"
                related.append(attachment)
    else:
        rows, related = list(selectors.attachments(user, record)), []
    can_change = access.can(user, Action.CHANGE, record)
    links = selectors.live_links([a.file for a in rows]) if can_change else {}
    for attachment in rows:
        attachment.link = links.get(attachment.file_id)
    args = [kind, record.pk]
    return {
        "record": record,
        "kind": kind,
        "title": _("Документы") if kind == "deals.deal" else _("Файлы"),
        "rows": rows,
        "related": related,
        "can_change": can_change,
        "upload_url": reverse("disk:attach_upload", args=args),
        "list_url": reverse("disk:attachments", args=args),
    }


@register
def attachments_panel(user, record) -> Panel | None:
    if not attachable(record):
        return None
    return Panel("disk/_attachments_panel.html", panel_context(user, record), order=30)  # after the client's deals and leads
