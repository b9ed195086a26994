"""Default required fields per status (PROCESS.md §1.3), seeded by a data migration. Each status
lists only what it adds: the checker makes them cumulative."""

DEFAULT_RULES = {
    "new": ["title", "source", "company_name", "company_phone"],
    "first_call": [],
    "qualification": ["niche", "crm_system", "client_type"],
    "reconnaissance": [],
    "decision_maker": [
        "pinned_comment", "sales_channel", "employees_count", "contact_last_name", "contact_first_name",
        "contact_phone_or_ext", "talked_to_decision_maker", "products_to_sell", "usp_acknowledged",
        "used_products", "next_touch", "training_info",
    ],
    "junk": ["junk_reason"],
}


def seed(apps) -> None:
    Requirement = apps.get_model("leads", "Requirement")
    for status, keys in DEFAULT_RULES.items():
        for key in keys:
            Requirement.objects.get_or_create(status=status, key=key)
