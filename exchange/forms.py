"""The forms of the «Импорт» page: every parameter (the upload's fields, the columns' mapping, the
list's page) goes through one of these, so a bad one gets a Russian message, never a 500."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from accounts import access

from . import selectors
from .columns import columns, lookup, normalize_header
from .models import ImportEntity

# What the reader understands: CSV (and its .txt/.tsv), XLSX, Bitrix24's «Экспорт в Excel» (.xls).
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xls")
ON_DUPLICATE = [("skip", _("Пропустить строку")), ("update", _("Обновить найденную запись")),
                ("create", _("Создать новую запись"))]


class UploadForm(forms.Form):
    entity = forms.ChoiceField(label=_("Что импортировать"))
    file = forms.FileField(label=_("Файл"), error_messages={"empty": _("Файл пуст."), "required": _("Выберите файл.")},
                           help_text=_("CSV, XLSX или «Экспорт в Excel» из Битрикс24 (.xls)."),
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}))
    on_duplicate = forms.ChoiceField(label=_("Если запись уже есть"), choices=ON_DUPLICATE, initial="skip",
                                     help_text=_("Дубликаты ищутся по ID Битрикс24, затем по ИНН, телефону, e-mail."))
    default_responsible = forms.ModelChoiceField(
        label=_("Ответственный по умолчанию"), queryset=None, required=False, empty_label=_("— не назначать —"),
        help_text=_("Для строк, где ответственный не указан или не найден."))
    create_missing = forms.BooleanField(
        label=_("Создавать недостающие значения справочников"), required=False,
        help_text=_("Источники и другие значения справочников, которых нет в CRM, будут добавлены."))
    strict = forms.BooleanField(
        label=_("Строгий режим"), required=False,
        help_text=_("Отклонять строку, если для её статуса не хватает данных, вместо импорта в более ранний статус."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.entities = selectors.importable(user)
        self.fields["entity"].choices = [(e, label) for e, label in ImportEntity.choices if e in self.entities]
        self.fields["default_responsible"].queryset = selectors.assignable(user, self.entities)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_FILE_SIZE
        if limit and upload.size > limit:
            raise forms.ValidationError(_("Файл больше %(size)s: такой импортировать нельзя. Разделите его на части.")
                                        % {"size": filesizeformat(limit)})
        if Path(upload.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(_("Импортируются файлы CSV, XLSX и XLS (выгрузка Битрикс24), а не «%(name)s».")
                                        % {"name": upload.name})
        return upload

    def clean(self):
        cleaned = super().clean()
        responsible, entity = cleaned.get("default_responsible"), cleaned.get("entity")
        if responsible is not None and entity and not access.can_hand_to(self.user, entity, responsible):
            self.add_error("default_responsible", _("Этого сотрудника нельзя назначить ответственным за эти записи."))
        return cleaned

    def options(self) -> dict:
        """The choices as the job keeps them (JSON)."""
        data = self.cleaned_data
        responsible = data.get("default_responsible")
        return {"on_duplicate": data["on_duplicate"], "create_missing": data["create_missing"],
                "strict": data["strict"], "default_responsible": responsible.pk if responsible else None}


class MappingForm(forms.Form):
    """One select per distinct header of the file: the entity's fields, or «не импортировать»."""

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = list(dict.fromkeys(job.headers))  # a header twice in the file is mapped once
        # Read-only columns («Дата создания») are written by exports, never read: not offered.
        known = [column for column in columns(job.entity) if not column.readonly]
        self.columns = {column.field: column for column in known}
        self.recognised = lookup(job.entity)
        choices = [("", _("— не импортировать —")), *((c.field, c.header) for c in known)]
        for index, header in enumerate(self.headers):
            field = forms.ChoiceField(label=header or _("(без названия)"), choices=choices, required=False,
                                      initial=job.mapping.get(header, ""))
            field.widget.attrs.update({"class": "form-select form-select-sm", "data-header": header})
            self.fields[f"col_{index}"] = field

    def rows(self):
        """(header, bound field) pairs, in the file's order."""
        return [(header, self[f"col_{index}"]) for index, header in enumerate(self.headers)]

    def clean(self):
        cleaned = super().clean()
        seen: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            field = cleaned.get(f"col_{index}")
            if not field:
                continue
            if field in seen and not self.shares(field, header, seen[field]):
                self.add_error(f"col_{index}", _("Поле «%(field)s» уже выбрано для колонки «%(other)s».")
                               % {"field": self.columns[field].header, "other": seen[field]})
            else:
                seen.setdefault(field, header)
        if not self.errors and not seen:
            raise forms.ValidationError(_("Выберите поле хотя бы для одной колонки."))
        return cleaned

    def shares(self, field: str, header: str, other: str) -> bool:
        """Whether two columns may fill one field, as the importer allows: a several-values field
        takes both (Bitrix24's phones of one type), and a field takes the headers it is known by
        (the lead's contact phone from «Мобильный телефон» or «Домашний телефон», the first filled
        wins) — what the page itself suggests must pass."""
        if self.columns[field].many:
            return True
        return all(self.recognised.get(normalize_header(h)) == field for h in (header, other))

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(f"col_{index}") or "" for index, header in enumerate(self.headers)}


class ListForm(forms.Form):
    page = forms.IntegerField(min_value=1, max_value=1_000_000, required=False)
    entity = forms.ChoiceField(choices=ImportEntity.choices, required=False)  # «Импорт» from a list: preselected
