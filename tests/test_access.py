"""The access gate: every persona × level, on a bare record kind (tests.accessapp.Record)."""

import pytest
from django.http import Http404
from django.urls import reverse

from accounts import access
from accounts.models import Action, Entity, Level, Permission, Role
from tests.accessapp.models import Record
from tests.factories import UserFactory


@pytest.fixture
def records(personas):
    """One record owned by each persona, plus one nobody owns."""
    made = {name: Record.objects.create(title=name, responsible=user) for name, user in personas.items()}
    made["nobody"] = Record.objects.create(title="nobody", responsible=None)
    return made


def visible_titles(user, action=Action.VIEW):
    return set(access.scope(user, Record.objects.all(), action).values_list("title", flat=True))


# What each persona sees with the default roles seeded by the migration.
EXPECTED_DEFAULT = {
    "owner": {"owner"},
    "teammate": {"teammate"},
    "outsider": {"outsider"},
    # The head's department is «Отдел продаж»; both groups are its sub-departments.
    "head": {"owner", "teammate", "outsider", "head"},
    "crm_admin": {"owner", "teammate", "outsider", "head", "crm_admin", "nobody"},
}


@pytest.mark.parametrize("persona", EXPECTED_DEFAULT)
@pytest.mark.parametrize("action", [Action.VIEW, Action.CHANGE, Action.DELETE])
def test_it_scopes_each_persona_with_default_roles(persona, action, personas, records):
    assert visible_titles(personas[persona], action) == EXPECTED_DEFAULT[persona]


@pytest.mark.parametrize("persona", EXPECTED_DEFAULT)
def test_can_agrees_with_scope_for_every_record(persona, personas, records):
    user = personas[persona]
    for title, record in records.items():
        assert access.can(user, Action.CHANGE, record) == (title in EXPECTED_DEFAULT[persona]), title


def set_level(role_name, lvl, action=Action.VIEW):
    Permission.objects.filter(role__name=role_name, entity=Entity.LEAD, action=action).update(level=lvl)


@pytest.mark.parametrize(
    ("lvl", "expected"),
    [
        (Level.NONE, set()),
        (Level.OWN, {"owner"}),
        (Level.DEPARTMENT, {"owner", "teammate"}),
        # «Группа продаж 1» has no sub-departments: same as department.
        (Level.SUBDEPARTMENTS, {"owner", "teammate"}),
        (Level.ALL, {"owner", "teammate", "outsider", "head", "crm_admin", "nobody"}),
    ],
)
def test_it_applies_every_level_for_a_manager(lvl, expected, personas, records):
    set_level("Менеджер", lvl)
    assert visible_titles(personas["owner"]) == expected


@pytest.mark.parametrize(
    ("lvl", "expected"),
    [
        (Level.OWN, {"head"}),
        (Level.DEPARTMENT, {"head"}),  # nobody else is directly in «Отдел продаж»
        (Level.SUBDEPARTMENTS, {"head", "owner", "teammate", "outsider"}),
    ],
)
def test_department_levels_follow_the_tree_for_the_head(lvl, expected, personas, records):
    set_level("Руководитель отдела продаж", lvl)
    assert visible_titles(personas["head"]) == expected


def test_a_rule_changed_in_the_admin_applies_to_the_next_request(personas, records):
    owner = personas["owner"]
    assert visible_titles(owner) == {"owner"}
    set_level("Менеджер", Level.DEPARTMENT)
    # A new request loads a fresh user; the per-request cache must not leak.
    fresh = type(owner).objects.get(pk=owner.pk)
    assert visible_titles(fresh) == {"owner", "teammate"}


def test_the_highest_level_of_several_roles_wins(personas, records):
    owner = personas["owner"]
    generous = Role.objects.create(name="Наблюдатель группы")
    Permission.objects.create(role=generous, entity=Entity.LEAD, action=Action.VIEW, level=Level.DEPARTMENT)
    owner.roles.add(generous)
    assert visible_titles(owner) == {"owner", "teammate"}
    assert visible_titles(owner, Action.CHANGE) == {"owner"}  # the extra role grants only reading


def test_actions_are_independent(personas, records):
    set_level("Менеджер", Level.NONE, action=Action.DELETE)
    owner = personas["owner"]
    assert access.can(owner, Action.CHANGE, records["owner"])
    assert not access.can(owner, Action.DELETE, records["owner"])


def test_a_user_without_roles_sees_nothing_and_a_superuser_everything(org, records):
    assert visible_titles(UserFactory(department=org["group1"])) == set()
    assert len(visible_titles(UserFactory(is_superuser=True))) == len(records)


def test_an_inactive_user_sees_nothing(personas, records):
    admin = personas["crm_admin"]
    admin.is_active = False
    assert visible_titles(admin) == set()


def test_can_add_needs_a_level_above_none(personas):
    assert access.can_add(personas["owner"], Record)
    set_level("Менеджер", Level.NONE, action=Action.ADD)
    assert not access.can_add(type(personas["owner"]).objects.get(pk=personas["owner"].pk), Record)


def test_get_or_404_hides_records_and_bad_ids(personas, records):
    owner = personas["owner"]
    assert access.get_or_404(owner, Record.objects.all(), pk=records["owner"].pk) == records["owner"]
    for bad in (records["teammate"].pk, 10**9, "abc", "1 OR 1=1"):
        with pytest.raises(Http404):
            access.get_or_404(owner, Record.objects.all(), pk=bad)


def test_the_level_matrix_costs_one_query_per_request(personas, records, django_assert_num_queries):
    owner = type(personas["owner"]).objects.get(pk=personas["owner"].pk)
    with django_assert_num_queries(1):
        for action in Action:
            access.level(owner, Entity.LEAD, action)


def test_no_action_reaches_beyond_what_the_user_may_read(personas, records):
    """«Изменение: все» with «Чтение: свои» changes only one's own records: the gate never lets a
    user change, delete or pin what it hides from him."""
    set_level("Менеджер", Level.ALL, action=Action.CHANGE)
    owner = personas["owner"]
    assert visible_titles(owner, Action.CHANGE) == {"owner"}
    assert not access.can(owner, Action.CHANGE, records["teammate"])


@pytest.mark.django_db
def test_a_pipeline_hidden_from_a_role_hides_its_deals_from_every_action(client, owner):
    """A role that may change every deal but not see one pipeline cannot pin a comment there."""
    from crm import timeline
    from tests.factories import COLD, DealFactory, pipeline

    deal = DealFactory(responsible=owner, pipeline=pipeline(COLD))
    entry = timeline.add_comment(deal, owner, "Итоги встречи")
    for role in owner.roles.all():
        Permission.objects.create(role=role, entity=Entity.DEAL, action=Action.VIEW, level=Level.NONE,
                                  scope=pipeline(COLD).access_scope)
    assert not access.scope(owner, type(deal).objects.all(), Action.CHANGE).filter(pk=deal.pk).exists()
    client.force_login(owner)
    response = client.post(reverse("crm:comment_pin", args=["deals.deal", deal.pk, entry.pk]), {"pin": "true"})
    assert response.status_code == 404
    entry.refresh_from_db()
    assert not entry.is_pinned


def test_a_subtrees_members_are_read_in_one_query_and_match_the_tree(org, personas, django_assert_num_queries):
    """A card asks whether the head sees one record: the members of his whole subtree (three levels
    down here) come in one recursive query, the same people the tree of names gives."""
    from accounts.models import User
    from tests.factories import DepartmentFactory

    head = personas["head"]
    deep_parent = DepartmentFactory(name="Подгруппа", parent=org["group1"])
    deeper = DepartmentFactory(name="Звено", parent=deep_parent)
    deep = UserFactory(username="deep", department=deeper)
    elsewhere = UserFactory(username="elsewhere", department=DepartmentFactory(name="Другой отдел"))

    fresh = User.objects.get(pk=head.pk)
    with django_assert_num_queries(1):
        one_query = access.owner_ids(fresh, Level.SUBDEPARTMENTS)
    walked = User.objects.get(pk=head.pk)
    access.departments(walked)  # the tree of names read already (a list page's panel): it is reused
    assert access.owner_ids(walked, Level.SUBDEPARTMENTS) == one_query
    assert one_query == {personas[p].pk for p in ("head", "owner", "teammate", "outsider")} | {deep.pk}
    assert elsewhere.pk not in one_query
