"""Companies and contacts. A contact may belong to several companies, as in Bitrix24: the same
ЛПР/ЛВР often advises a group of firms, and a lead converted twice must find the person, not
duplicate them."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Entity
from crm import textindex
from crm.duplicates import company_key, search_normalize
from crm.inn import validate_inn
from crm.models import Communication


class ClientBase(models.Model):
    access_owner_field = "responsible"

    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Ответственный"), on_delete=models.PROTECT,
                                    related_name="+")
    comment = models.TextField(_("Комментарий"), blank=True)
    communications = GenericRelation(Communication)
    search_text = models.TextField(editable=False, default="")
    # The record's number in the system it was imported from (Bitrix24's «ID»): a re-import finds it.
    external_id = models.CharField(_("Внешний ID"), max_length=64, blank=True, db_index=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Кем создан"), null=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField(_("Дата создания"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("Дата изменения"), auto_now=True)

    class Meta:
        abstract = True

    def searched_parts(self) -> list[str]:
        raise NotImplementedError

    def refresh_search_text(self, communications=None) -> None:
        """Name parts, requisites and every phone (also as dialled with 8) and e-mail."""
        parts = self.searched_parts()
        for c in communications if communications is not None else self.communications.all():
            parts.append(c.value.lstrip("+"))
            if c.value.startswith("+7"):
                parts.append("8" + c.value[2:])
        self.search_text = search_normalize(" ".join(p for p in parts if p))


class Company(ClientBase):
    website_fields = ("website",)  # crm.display: a link only if http(s)
    access_entity = Entity.COMPANY

    name = models.CharField(_("Название компании"), max_length=255)
    inn = models.CharField(_("ИНН"), max_length=12, blank=True, validators=[validate_inn])
    kpp = models.CharField(_("КПП"), max_length=9, blank=True)
    ogrn = models.CharField(_("ОГРН"), max_length=15, blank=True)
    legal_name = models.CharField(_("Полное наименование"), max_length=500, blank=True)
    legal_address = models.CharField(_("Юридический адрес"), max_length=500, blank=True)
    website = models.CharField(_("Сайт"), max_length=255, blank=True)
    address = models.CharField(_("Адрес"), max_length=500, blank=True)
    niche = models.ForeignKey("crm.Niche", verbose_name=_("Ниша компании"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    client_type = models.ForeignKey("crm.ClientType", verbose_name=_("Тип клиента"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    company_key = models.CharField(max_length=255, editable=False, db_index=True, default="")

    name_forms = (_("компанию"), _("компания"), _("компании"), _("компаний"))  # crm.admin_names

    class Meta:
        verbose_name = _("Компания")
        verbose_name_plural = _("Компании")
        ordering = ["name", "pk"]
        constraints = [
            # ИНН identifies a company: two cards with one ИНН are a duplicate, refused.
            models.UniqueConstraint(fields=["inn"], condition=~Q(inn=""), name="unique_company_inn"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.company_key = company_key(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("clients:company_detail", args=[self.pk])

    def searched_parts(self) -> list[str]:
        return [self.name, self.legal_name, self.inn]


class Contact(ClientBase):
    access_entity = Entity.CONTACT

    last_name = models.CharField(_("Фамилия"), max_length=100, blank=True)
    first_name = models.CharField(_("Имя"), max_length=100)
    middle_name = models.CharField(_("Отчество"), max_length=100, blank=True)
    birth_date = models.DateField(_("Дата рождения"), null=True, blank=True)
    position = models.CharField(_("Должность"), max_length=200, blank=True)
    companies = models.ManyToManyField(Company, verbose_name=_("Компании"), blank=True, related_name="contacts")

    name_forms = (_("контакт"), _("контакт"), _("контакта"), _("контактов"))  # crm.admin_names

    class Meta:
        verbose_name = _("Контакт")
        verbose_name_plural = _("Контакты")
        ordering = ["last_name", "first_name", "pk"]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("clients:contact_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def searched_parts(self) -> list[str]:
        return [self.last_name, self.first_name, self.middle_name, self.position]


# The search box's index on SQLite (crm.textindex; made by this app's migration).
textindex.register(Company._meta.db_table)
textindex.register(Company._meta.db_table, "company_key")  # the deals' search asks for it (deals.filters)
textindex.register(Contact._meta.db_table)
