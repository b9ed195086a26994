from django import template
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from crm.admin_names import forms_for, plural

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_title(context) -> str:
    """The page title with the record kind in the right case: «Выберите стадию для изменения»,
    «Добавить стадию», «Изменить стадию»; other pages keep Django's title."""
    cl = context.get("cl")
    if cl is not None:
        name = forms_for(cl.opts).accusative
        if cl.model_admin.has_change_permission(context["request"]):
            return _("Выберите %(name)s для изменения") % {"name": name}
        return _("Выберите %(name)s для просмотра") % {"name": name}
    opts = context.get("opts")
    if opts is not None and "add" in context and "change" in context:
        name = forms_for(opts).accusative
        if context["add"]:
            return _("Добавить %(name)s") % {"name": name}
        if context.get("has_change_permission"):
            return _("Изменить %(name)s") % {"name": name}
        return _("Просмотр: %(name)s") % {"name": forms_for(opts).one}
    return context.get("title") or ""


@register.simple_tag
def admin_add_label(opts) -> str:
    return _("Добавить %(name)s") % {"name": forms_for(opts).accusative}


@register.simple_tag
def admin_count(n, opts) -> str:
    """«1 стадия», «3 стадии», «20 обязательных полей»."""
    return f"{n} {plural(n, forms_for(opts))}"


@register.filter
def cap(text):
    return capfirst(text)
