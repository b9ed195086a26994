"""Who reaches what on the disk, per persona: a personal disk is its owner's; a share (to a
person or a department, with its sub-departments) opens an item and everything below it; the
common disk is everyone's, a department's disk its members'; a CRM record's files follow the
record's access; the CRM administrator («Диск»: «Все») reaches every file."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Entity, Level, Permission, User
from disk import selectors, services
from disk.models import Share
from disk.selectors import EDIT, READ
from tests.factories import DealFactory

from .conftest import content

pytestmark = pytest.mark.django_db


def rights_of(personas, item) -> dict[str, str | None]:
    return {name: selectors.rights(user, item) for name, user in personas.items()}


@pytest.fixture
def tree(owner, my_disk):
    """«Мой диск» / «Клиенты» / «Ромашка» / «КП.pdf» of the owner."""
    clients = services.folder_create(my_disk.root, "Клиенты", owner)
    romashka = services.folder_create(clients, "Ромашка", owner)
    offer = services.upload(romashka, content("КП"), "КП.pdf", owner)
    return {"clients": clients, "romashka": romashka, "offer": offer}


def test_it_keeps_a_personal_disk_to_its_owner_his_head_and_the_crm_admin(personas, tree):
    # The head of sales reaches his people's files as he reaches their deals (the role's «Диск» level).
    assert rights_of(personas, tree["offer"]) == {
        "owner": EDIT, "teammate": None, "outsider": None, "head": EDIT, "crm_admin": EDIT}
    assert rights_of(personas, tree["clients"])["head"] == EDIT


def test_it_keeps_a_personal_disk_from_the_head_when_his_role_says_own_files_only(personas, tree):
    Permission.objects.filter(role__name="Руководитель отдела продаж", entity=Entity.FILE).update(level=Level.OWN)
    head = User.objects.get(pk=personas["head"].pk)  # the levels are cached on the user object
    assert selectors.rights(head, tree["offer"]) is None
    assert selectors.rights(head, services.common_storage().root) == EDIT


def test_it_answers_404_to_whom_may_not_see_a_file(teammate, crm_admin, tree):
    with pytest.raises(Http404):
        selectors.file_for(teammate, tree["offer"].pk)
    with pytest.raises(Http404):
        selectors.folder_for(teammate, tree["clients"].pk)
    assert selectors.file_for(crm_admin, tree["offer"].pk) == tree["offer"]


def test_it_opens_a_shared_folder_and_everything_below_it(personas, owner, teammate, tree):
    services.share(tree["clients"], owner, user=teammate)
    assert rights_of(personas, tree["offer"]) == {
        "owner": EDIT, "teammate": READ, "outsider": None, "head": EDIT, "crm_admin": EDIT}
    assert selectors.folder_for(teammate, tree["romashka"].pk) == tree["romashka"]
    # Reading is not changing.
    with pytest.raises(PermissionDenied):
        services.rename(tree["offer"], "Моё.pdf", teammate)
    with pytest.raises(PermissionDenied):
        services.upload(tree["romashka"], content("x"), "Чужое.txt", teammate)


def test_it_lets_an_editing_share_change_and_add(owner, teammate, tree):
    services.share(tree["romashka"], owner, user=teammate, access_level=Share.Access.EDIT)
    services.rename(tree["offer"], "КП v2.pdf", teammate)
    added = services.upload(tree["romashka"], content("x"), "Смета.xlsx", teammate)
    assert added.author == teammate
    # Above the shared folder nothing opens.
    assert selectors.rights(teammate, tree["clients"]) is None


def test_it_opens_a_share_to_a_department_to_its_members_and_sub_departments(personas, org, owner, tree):
    services.share(tree["offer"], owner, department=org["sales"])
    assert rights_of(personas, tree["offer"]) == {
        "owner": EDIT, "teammate": READ, "outsider": READ, "head": EDIT, "crm_admin": EDIT}
    # The file only: its folder stays closed.
    assert selectors.rights(personas["outsider"], tree["romashka"]) is None


def test_it_keeps_a_group_share_inside_the_group(personas, org, owner, tree):
    services.share(tree["clients"], owner, department=org["group1"], access_level=Share.Access.EDIT)
    assert rights_of(personas, tree["offer"]) == {
        "owner": EDIT, "teammate": EDIT, "outsider": None, "head": EDIT, "crm_admin": EDIT}


def test_it_closes_an_item_again_when_unshared(owner, teammate, tree):
    found = services.share(tree["clients"], owner, user=teammate)
    again = services.share(tree["clients"], owner, user=teammate, access_level=Share.Access.EDIT)
    assert again.pk == found.pk and Share.objects.count() == 1
    assert selectors.rights(teammate, tree["offer"]) == EDIT
    services.unshare(again, owner)
    assert selectors.rights(teammate, tree["offer"]) is None


def test_it_refuses_sharing_by_someone_who_may_not_change_the_item(owner, teammate, outsider, tree):
    services.share(tree["clients"], owner, user=teammate)
    with pytest.raises(PermissionDenied):
        services.share(tree["clients"], teammate, user=outsider)
    with pytest.raises(PermissionDenied):
        services.public_link_create(tree["offer"], teammate)


def test_it_lists_what_others_share_with_me(owner, teammate, org, tree):
    services.share(tree["clients"], owner, user=teammate)
    services.share(tree["offer"], owner, department=org["group1"])
    assert {(s.folder_id, s.file_id) for s in selectors.shared_with_me(teammate)} == {
        (tree["clients"].pk, None), (None, tree["offer"].pk)}
    assert list(selectors.shared_with_me(owner)) == []  # what I shared is not «shared with me»
    services.delete(tree["offer"], owner)
    assert [s.folder_id for s in selectors.shared_with_me(teammate)] == [tree["clients"].pk]


def test_it_opens_the_common_disk_to_everyone_and_a_department_disk_to_its_members(personas, org):
    common = services.common_storage()
    group = services.department_storage(org["group1"])
    sales = services.department_storage(org["sales"])
    assert set(rights_of(personas, common.root).values()) == {EDIT}
    assert rights_of(personas, group.root) == {
        "owner": EDIT, "teammate": EDIT, "outsider": None, "head": None, "crm_admin": EDIT}
    # The sales department's disk reaches its sub-departments' people.
    assert rights_of(personas, sales.root) == {
        "owner": EDIT, "teammate": EDIT, "outsider": EDIT, "head": EDIT, "crm_admin": EDIT}
    assert {s.pk for s in selectors.storages_for(personas["owner"])} >= {common.pk, group.pk, sales.pk}
    assert group.pk not in {s.pk for s in selectors.storages_for(personas["outsider"])}


def test_it_gives_a_record_s_files_to_whom_may_see_the_record(personas, owner):
    deal = DealFactory(responsible=owner, title="Поставка «Ромашке»")
    attachment = services.attach_upload(deal, content("КП"), "КП.pdf", owner)
    offer = attachment.file
    assert offer.folder.record == deal
    assert offer.folder.name == f"Поставка «Ромашке» #{deal.pk}"
    assert rights_of(personas, offer) == {
        "owner": EDIT, "teammate": None, "outsider": None, "head": EDIT, "crm_admin": EDIT}
    assert [a.file for a in selectors.attachments(personas["head"], deal)] == [offer]
    assert list(selectors.attachments(personas["teammate"], deal)) == []
    # The CRM's root and the «Сделки» folder list nobody's deals but the administrator's.
    assert selectors.rights(personas["head"], offer.folder.parent) is None
    assert selectors.rights(personas["crm_admin"], offer.folder.parent) == EDIT


def test_it_lets_only_whom_may_change_the_record_attach(owner, teammate, crm_admin):
    deal = DealFactory(responsible=owner)
    with pytest.raises(PermissionDenied):
        services.attach_upload(deal, content("x"), "Вирус.exe", teammate)
    services.attach_upload(deal, content("x"), "Счёт.pdf", crm_admin)


def test_it_attaches_a_copy_of_a_disk_file_to_a_record(owner, my_disk, tree):
    deal = DealFactory(responsible=owner)
    attachment = services.attach(deal, tree["offer"], owner)
    assert attachment.file.pk != tree["offer"].pk
    assert attachment.file.folder.record == deal
    services.delete(tree["offer"], owner)  # the record keeps its document
    assert [a.file for a in selectors.attachments(owner, deal)] == [attachment.file]


def test_it_shows_the_trash_to_whom_may_change_the_storage(owner, teammate, crm_admin, my_disk, tree):
    services.delete(tree["clients"], owner)
    folders, files = selectors.trash(owner, my_disk)
    assert [f.pk for f in folders] == [tree["clients"].pk] and list(files) == []
    with pytest.raises(Http404):
        selectors.trash(teammate, my_disk)
    assert [f.pk for f in selectors.trash(crm_admin, my_disk)[0]] == [tree["clients"].pk]


def test_it_lists_an_item_shared_with_me_and_my_departments_once_with_the_strongest_right(
        owner, teammate, org, tree):
    services.share(tree["clients"], owner, department=org["group1"])                 # read
    services.share(tree["clients"], owner, user=teammate, access_level=Share.Access.EDIT)
    services.share(tree["clients"], owner, department=org["sales"])                  # read, above group1
    services.share(tree["offer"], owner, department=org["group1"])
    services.share(tree["offer"], owner, department=org["sales"])
    listed = list(selectors.shared_with_me(teammate))
    assert len(listed) == 2 and {(s.folder_id, s.file_id, s.access) for s in listed} == {
        (tree["clients"].pk, None, Share.Access.EDIT), (None, tree["offer"].pk, Share.Access.READ)}
    assert list(selectors.writable_shared_folders(teammate)) == [tree["clients"]]
    # Edit through a department beats read to the person.
    services.share(tree["offer"], owner, user=teammate)
    services.share(tree["offer"], owner, department=org["sales"], access_level=Share.Access.EDIT)
    [offer] = [s for s in selectors.shared_with_me(teammate) if s.file_id]
    assert offer.access == Share.Access.EDIT and offer.department == org["sales"]
