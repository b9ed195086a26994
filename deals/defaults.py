"""The three pipelines of PROCESS.md §2 with their stages, the default stage rules and loss
reasons. Seeded by a data migration; supervisors change them in the admin."""

PIPELINES = [
    # (name, default_for, in-process stages, success, failure)
    ("Общая воронка", "other",
     ["Новая", "Подготовка документов", "Счёт на предоплату", "В работе", "Финальный счёт"],
     "Сделка успешна", "Сделка провалена"),
    ("Холодное подключение «Битрикс 24»", "cold",
     ["Новая", "Бесплатный продукт согласован", "Бесплатный продукт проведён", "Презентация", "КП отправлено",
      "Счёт выставлен"],
     "Оплачено", "Отказ"),
    ("Входящие заявки «Битрикс 24»", "inbound",
     ["Новая заявка", "Первичный контакт", "Выявление потребностей", "Демонстрация", "КП отправлено",
      "Счёт выставлен"],
     "Оплачено", "Отказ"),
]
# Stage from which «Сумма > 0» and a product row are required (cumulative onwards).
MONEY_FROM = {"Общая воронка": "Счёт на предоплату", "Холодное подключение «Битрикс 24»": "КП отправлено",
              "Входящие заявки «Битрикс 24»": "КП отправлено"}
COLORS = ["#39a8ef", "#2fc6f6", "#55d0e0", "#47e4c2", "#ffa900", "#ff8b3d"]
LOSS_REASONS = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Не дозвонились", "Неактуально", "Другое"]


def seed(apps) -> None:
    Pipeline = apps.get_model("deals", "Pipeline")
    Stage = apps.get_model("deals", "Stage")
    StageRequirement = apps.get_model("deals", "StageRequirement")
    LossReason = apps.get_model("deals", "LossReason")
    for p_sort, (name, default_for, stages, success, failure) in enumerate(PIPELINES, start=1):
        pipeline, created = Pipeline.objects.get_or_create(name=name, defaults={"sort": p_sort * 10,
                                                                               "default_for": default_for})
        if not created:
            continue
        for i, stage_name in enumerate(stages):
            Stage.objects.create(pipeline=pipeline, name=stage_name, sort=(i + 1) * 10, color=COLORS[i % len(COLORS)])
        Stage.objects.create(pipeline=pipeline, name=success, sort=900, color="#7bd500", semantics="success")
        failure_stage = Stage.objects.create(pipeline=pipeline, name=failure, sort=910, color="#f0506e",
                                             semantics="failure")
        money_stage = Stage.objects.get(pipeline=pipeline, name=MONEY_FROM[name])
        for key in ("amount", "products"):
            StageRequirement.objects.create(stage=money_stage, key=key)
        StageRequirement.objects.create(stage=failure_stage, key="loss_reason")
    for sort, reason in enumerate(LOSS_REASONS, start=1):
        LossReason.objects.get_or_create(name=reason, defaults={"sort": sort * 10})
