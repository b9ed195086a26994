"""The cards' reference-list values read in one query (crm.references), never stale."""

import pytest
from django.urls import reverse

from crm import references
from leads import services
from leads.models import Lead
from tests.factories import LeadFactory, ref

pytestmark = pytest.mark.django_db


class TestAttach:
    def test_it_fills_keys_and_lists_of_several_records_in_one_query(self, owner, django_assert_num_queries):
        from crm.models import Product

        niche = ref("Niche")
        product_b, product_a = Product.objects.order_by("sort", "name")[:2]
        product_a.sort, product_b.sort = 1, 2  # a's sort puts it first, whatever the seeded order
        product_a.save(), product_b.save()
        first = LeadFactory(responsible=owner, niche=niche)
        first.products_to_sell.set([product_b, product_a])
        second = LeadFactory(responsible=owner)  # no niche, no products
        leads = list(Lead.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"))
        with django_assert_num_queries(1):
            references.attach(leads, ("source", "niche", "products_to_sell"))
            assert [lead.source.name for lead in leads] == ["Контур.Компас"] * 2
            assert leads[0].niche.name == niche.name and leads[1].niche is None
            # In the lists' own order (sort, name), as prefetch_related gives them.
            assert [p.name for p in leads[0].products_to_sell.all()] == [product_a.name, product_b.name]
            assert list(leads[1].products_to_sell.all()) == []

    def test_a_lists_own_field_is_still_read_when_asked_for(self, owner):
        lead = Lead.objects.get(pk=LeadFactory(responsible=owner).pk)
        references.attach([lead], ("source",))
        assert lead.source.kind == ref("Source", "Контур.Компас").kind

    def test_it_refuses_a_key_that_is_not_a_reference_list(self, owner):
        lead = LeadFactory(responsible=owner)
        with pytest.raises(TypeError):
            references.attach([lead], ("responsible",))


class TestNeverStale:
    def test_an_admins_rename_shows_on_the_next_card_at_once(self, client, owner):
        lead = LeadFactory(responsible=owner)
        services.lead_update(lead, data={"niche": ref("Niche")}, m2m={}, by=owner, version=lead.version)
        client.force_login(owner)
        url = reverse("leads:detail", args=[lead.pk])
        assert ref("Niche").name in client.get(url).content.decode()
        niche = ref("Niche")
        niche.name = "Переименованная ниша"
        niche.save()
        # No cache to invalidate: every card reads the lists' rows afresh (one query for all of them).
        assert "Переименованная ниша" in client.get(url).content.decode()


class TestChoices:
    def test_several_lists_in_their_order_in_one_query(self, django_assert_num_queries):
        from crm.models import Niche, Source

        site = ref("Source", "Сайт")
        Source.objects.update(sort=5)
        Source.objects.filter(pk=site.pk).update(sort=0)  # its sort puts it first, whatever its name
        site.refresh_from_db()
        Source.objects.create(name="Аааа без сортировки", sort=site.sort)  # same sort: by name after it
        with django_assert_num_queries(1):
            sources, niches = references.choices(Source, Niche)
        assert sources[:2] == [(Source.objects.get(name="Аааа без сортировки").pk, "Аааа без сортировки"),
                               (site.pk, "Сайт")]
        assert sources == list(Source.objects.order_by("sort", "name").values_list("pk", "name"))
        assert niches == list(Niche.objects.order_by("sort", "name").values_list("pk", "name")) and niches
