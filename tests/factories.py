import factory

from accounts.models import Department, Role, User

PASSWORD = "Pa55word-for-tests"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Отдел {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="ru_RU")
    last_name = factory.Faker("last_name", locale="ru_RU")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, name, **kwargs):
        """`role="Менеджер"` gives the user one of the seeded default roles."""
        if create and name:
            self.roles.add(Role.objects.get(name=name))


def ref(model_name: str, name: str | None = None):
    """A seeded reference-list value (the data migration fills them)."""
    from django.apps import apps

    model = apps.get_model("crm", model_name)
    return model.objects.get(name=name) if name else model.objects.order_by("sort").first()


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead as a manager creates it: the four fields «Не обработан» requires, nothing else."""

    class Meta:
        model = "leads.Lead"

    title = factory.Sequence(lambda n: f"Лид {n}")
    source = factory.LazyFunction(lambda: ref("Source", "Контур.Компас"))
    company_name = factory.Sequence(lambda n: f"ООО «Компания {n}»")
    company_phone = factory.Sequence(lambda n: f"+7912{n:07d}")
    responsible = factory.SubFactory(UserFactory)


def stage(pipeline_name: str, stage_name: str):
    from deals.models import Stage

    return Stage.objects.get(pipeline__name=pipeline_name, name=stage_name)


def pipeline(name: str):
    from deals.models import Pipeline

    return Pipeline.objects.get(name=name)


def pipeline_form(p, *, edit=None, delete=(), add=()):
    """The pipeline's change form as the admin posts it: its stages, some edited, deleted or added."""
    stages = list(p.stages.order_by("sort", "pk"))
    data = {"name": p.name, "sort": p.sort, "default_for": p.default_for,
            "stages-TOTAL_FORMS": len(stages) + len(add), "stages-INITIAL_FORMS": len(stages),
            "stages-MIN_NUM_FORMS": 0, "stages-MAX_NUM_FORMS": 1000}
    for i, s in enumerate(stages):
        row = {"id": s.pk, "pipeline": p.pk, "name": s.name, "sort": s.sort, "color": s.color,
               "semantics": s.semantics, **(edit or {}).get(s.name, {})}
        if s.name in delete:
            row["DELETE"] = "on"
        data.update({f"stages-{i}-{k}": v for k, v in row.items()})
    for j, row in enumerate(add, start=len(stages)):
        data.update({f"stages-{j}-{k}": v for k, v in {"pipeline": p.pk, "color": "#2fc6f6", **row}.items()})
    return data


GENERAL, COLD, INBOUND = "Общая воронка", "Холодное подключение «Битрикс 24»", "Входящие заявки «Битрикс 24»"


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "deals.Deal"

    title = factory.Sequence(lambda n: f"Сделка {n}")
    pipeline = factory.LazyFunction(lambda: pipeline(COLD))
    stage_id = factory.LazyAttribute(lambda d: d.pipeline.first_stage().pk)
    responsible = factory.SubFactory(UserFactory)
