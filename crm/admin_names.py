"""How the admin names each kind of record in a sentence. Django builds «Выберите %s для изменения»,
«Добавить %s» and «20 %s» from one verbose_name, which Russian cannot do («Выберите стадия»,
«20 Обязательные поля»): a title needs the accusative and a count needs three plural forms. Apps
give their models a `name_forms` attribute, and the admin templates ask
(crm/templatetags/admin_names.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language


@dataclass(frozen=True)
class Forms:
    accusative: str  # «стадию»: Выберите / Добавить / Изменить …
    one: str         # 1 стадия, 21 стадия
    few: str         # 2–4 стадии
    many: str        # 5–20 стадий, 0 стадий


def forms_for(opts) -> Forms:
    """A model's `name_forms` (accusative, one, few, many), or Django's own names for a model
    that has none (third-party ones)."""
    found = getattr(opts.model, "name_forms", None)
    if found is None:
        name, plural_name = str(opts.verbose_name), str(opts.verbose_name_plural)
        return Forms(name, name, plural_name, plural_name)
    return Forms(*found)


def plural(n: int, forms: Forms) -> str:
    if (get_language() or "ru").startswith("ru"):
        if n % 10 == 1 and n % 100 != 11:
            return str(forms.one)
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return str(forms.few)
        return str(forms.many)
    return str(forms.one if n == 1 else forms.many)
