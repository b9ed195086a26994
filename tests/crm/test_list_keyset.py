"""Pages of the leads' and deals' lists read by the key of the neighbouring page
(crm.lists.set_cursors): «Вперёд», «Назад» and the next page numbers carry the boundary row's key,
and the page is read from the index after it instead of over an OFFSET. The rows must be those
the OFFSET gives — none repeated, none skipped, instants shared by several rows included."""

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import tallies
from deals.models import Deal
from leads.models import Lead
from tests.factories import DealFactory, ref

LEADS, DEALS = reverse("leads:list"), reverse("deals:list")


def make_leads(owner, n: int) -> None:
    """n leads, three at a time sharing one instant (the pk breaks the ties), dates not in pk order."""
    source = ref("Source")
    Lead.objects.bulk_create([Lead(title=f"Лид {i:03d}", source=source, responsible=owner) for i in range(n)])
    start = timezone.now() - dt.timedelta(days=30)
    for i, lead in enumerate(Lead.objects.order_by("pk")):
        moment = start + dt.timedelta(minutes=(i // 3) * 7 % 500)
        Lead.objects.filter(pk=lead.pk).update(created_at=moment, updated_at=moment + dt.timedelta(hours=i % 5))
    tallies.rebuild(Lead)


def ids(response, kind: str) -> list[int]:
    assert response.status_code == 200
    return [record.pk for record in response.context[kind]]


def link(response, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', response.content.decode())
    return unescape(found.group(1)) if found else None


def walk(client, url: str, params: dict, kind: str, rel: str, start: int | None = None) -> list[list[int]]:
    """The pages met following the «Вперёд» (rel=next) or «Назад» (rel=prev) links from `start`."""
    response = client.get(url, {**params, **({"page": start} if start else {})})
    pages = [ids(response, kind)]
    while (href := link(response, rel)) is not None:
        response = client.get(url + href)
        pages.append(ids(response, kind))
    return pages if rel == "next" else pages[::-1]


@pytest.mark.parametrize("sort", ["", "created_at", "-updated_at", "updated_at"])
def test_the_pages_by_key_are_the_pages_by_offset_both_ways(client, owner, sort):
    make_leads(owner, 170)
    client.force_login(owner)
    params = {"sort": sort} if sort else {}
    forward = walk(client, LEADS, params, "leads", "next")
    assert [len(page) for page in forward] == [50, 50, 50, 20]
    by_offset = [ids(client.get(LEADS, {**params, "page": n}), "leads") for n in range(1, 5)]
    assert forward == by_offset
    assert walk(client, LEADS, params, "leads", "prev", start=4) == by_offset
    order = {"": ("-created_at", "-pk"), "created_at": ("created_at", "pk"), "-updated_at": ("-updated_at", "-pk"),
             "updated_at": ("updated_at", "pk")}[sort]
    assert sum(forward, []) == list(Lead.objects.order_by(*order).values_list("pk", flat=True))


def test_the_next_pages_link_carries_the_key_and_a_new_lead_does_not_repeat_a_row(client, owner):
    make_leads(owner, 120)
    client.force_login(owner)
    first = client.get(LEADS)
    href = link(first, "next")
    assert re.fullmatch(r"\?page=2&after=\d+_\d+", href)
    assert f'href="{href.replace("&", "&amp;")}">2</a>' in first.content.decode()  # the page number too
    assert "after=" not in (link(client.get(LEADS, {"page": 2}), "prev") or "")  # page 1 is read as it is
    Lead.objects.create(title="Новый", source=ref("Source"), responsible=owner)  # on top of page 1 now
    second = ids(client.get(LEADS + href), "leads")
    assert second == list(Lead.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)[51:101])
    assert not set(second) & set(ids(first, "leads"))


def test_a_list_sorted_otherwise_is_paged_by_offset(client, owner):
    make_leads(owner, 120)
    client.force_login(owner)
    response = client.get(LEADS, {"sort": "title"})
    assert link(response, "next") == "?sort=title&page=2"
    pages = walk(client, LEADS, {"sort": "title"}, "leads", "next")
    assert sum(pages, []) == list(Lead.objects.order_by("title", "pk").values_list("pk", flat=True))
    # A key left in the URL by hand is ignored by a sort without keys.
    assert ids(client.get(LEADS, {"sort": "title", "page": 2, "after": "1_1"}), "leads") == pages[1]


@pytest.mark.parametrize("key", ["abc", "1_", "_5", "99999999999999999999_1", "-1_-1", "1_99999999999999999999",
                                 "١٢_٣"])
def test_a_tampered_key_reads_the_page_by_its_number(client, owner, key):
    make_leads(owner, 120)
    client.force_login(owner)
    by_offset = ids(client.get(LEADS, {"page": 2}), "leads")
    assert ids(client.get(LEADS, {"page": 2, "after": key}), "leads") == by_offset
    assert ids(client.get(LEADS, {"page": 2, "before": key}), "leads") == by_offset


def test_the_deals_pages_by_key_are_the_pages_by_offset(client, owner):
    for i in range(110):
        DealFactory(title=f"Сделка {i:03d}", responsible=owner)
    moment = timezone.now() - dt.timedelta(days=3)
    Deal.objects.filter(pk__in=list(Deal.objects.order_by("pk").values_list("pk", flat=True)[40:60])).update(
        created_at=moment)  # twenty deals at one instant, across the boundary of pages 1 and 2
    client.force_login(owner)
    forward = walk(client, DEALS, {}, "deals", "next")
    by_offset = [ids(client.get(DEALS, {"page": n}), "deals") for n in range(1, 4)]
    assert forward == by_offset == walk(client, DEALS, {}, "deals", "prev", start=3)
    assert sum(forward, []) == list(Deal.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
