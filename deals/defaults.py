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
# Each default stage's code (Stage.code: Bitrix24's STAGE_ID without the «C<id>:» prefix). «Общая
# воронка» has Bitrix24's own default stages and codes (research/bitrix24.md §2); in the others the
# first stage is NEW, the success WON and the failure LOSE as in every Bitrix24 pipeline, and the
# rest are named after what they mean.
STAGE_CODES = {
    "Общая воронка": {
        "Новая": "NEW", "Подготовка документов": "PREPARATION", "Счёт на предоплату": "PREPAYMENT_INVOICE",
        "В работе": "EXECUTING", "Финальный счёт": "FINAL_INVOICE", "Сделка успешна": "WON",
        "Сделка провалена": "LOSE",
    },
    "Холодное подключение «Битрикс 24»": {
        "Новая": "NEW", "Бесплатный продукт согласован": "FREE_PRODUCT_AGREED",
        "Бесплатный продукт проведён": "FREE_PRODUCT_DONE", "Презентация": "PRESENTATION",
        "КП отправлено": "OFFER_SENT", "Счёт выставлен": "INVOICE", "Оплачено": "WON", "Отказ": "LOSE",
    },
    "Входящие заявки «Битрикс 24»": {
        "Новая заявка": "NEW", "Первичный контакт": "FIRST_CONTACT", "Выявление потребностей": "NEEDS",
        "Демонстрация": "DEMO", "КП отправлено": "OFFER_SENT", "Счёт выставлен": "INVOICE", "Оплачено": "WON",
        "Отказ": "LOSE",
    },
}
LOSS_REASONS = ["Дорого", "Выбрали конкурента", "Нет бюджета", "Не дозвонились", "Неактуально", "Другое"]


def new_stage_code(stages) -> str:
    """A code no stage of `stages` (one pipeline's, a queryset) has: «UC_» and six letters or
    digits, as Bitrix24 names the stages a portal adds."""
    import secrets
    import string

    taken = set(stages.values_list("code", flat=True))
    while True:
        code = "UC_" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        if code not in taken:
            return code


def fill_stage_codes(apps) -> None:
    """Give every stage without a code one: the default stages theirs (STAGE_CODES), otherwise
    NEW for a pipeline's first stage in process, WON for its success stage, LOSE for its first
    failure stage, if still free; «UC_…» for the rest. Run by the migration that added the codes."""
    Stage = apps.get_model("deals", "Stage")
    for stage in Stage.objects.filter(code="").select_related("pipeline").order_by("pipeline_id", "sort", "pk"):
        siblings = Stage.objects.filter(pipeline_id=stage.pipeline_id)
        taken = set(siblings.values_list("code", flat=True))
        code = STAGE_CODES.get(stage.pipeline.name, {}).get(stage.name)
        if code is None:
            first = siblings.filter(semantics="process").order_by("sort", "pk").first()
            code = {"success": "WON", "failure": "LOSE"}.get(stage.semantics,
                                                             "NEW" if first and first.pk == stage.pk else None)
        if code is None or code in taken:
            code = new_stage_code(siblings)
        stage.code = code
        stage.save(update_fields=["code"])


def seed(apps) -> None:
    Pipeline = apps.get_model("deals", "Pipeline")
    Stage = apps.get_model("deals", "Stage")
    StageRequirement = apps.get_model("deals", "StageRequirement")
    LossReason = apps.get_model("deals", "LossReason")
    has_code = any(f.name == "code" for f in Stage._meta.get_fields())  # not at migration 0002 yet

    def code(pipeline_name, stage_name) -> dict:
        return {"code": STAGE_CODES[pipeline_name][stage_name]} if has_code else {}

    for p_sort, (name, default_for, stages, success, failure) in enumerate(PIPELINES, start=1):
        pipeline, created = Pipeline.objects.get_or_create(name=name, defaults={"sort": p_sort * 10,
                                                                               "default_for": default_for})
        if not created:
            continue
        for i, stage_name in enumerate(stages):
            Stage.objects.create(pipeline=pipeline, name=stage_name, sort=(i + 1) * 10, color=COLORS[i % len(COLORS)],
                                 **code(name, stage_name))
        Stage.objects.create(pipeline=pipeline, name=success, sort=900, color="#7bd500", semantics="success",
                             **code(name, success))
        failure_stage = Stage.objects.create(pipeline=pipeline, name=failure, sort=910, color="#f0506e",
                                             semantics="failure", **code(name, failure))
        money_stage = Stage.objects.get(pipeline=pipeline, name=MONEY_FROM[name])
        for key in ("amount", "products"):
            StageRequirement.objects.create(stage=money_stage, key=key)
        StageRequirement.objects.create(stage=failure_stage, key="loss_reason")
    for sort, reason in enumerate(LOSS_REASONS, start=1):
        LossReason.objects.get_or_create(name=reason, defaults={"sort": sort * 10})
    if has_code:
        fill_stage_codes(apps)
