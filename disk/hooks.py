"""What the disk does when a CRM record is deleted (crm.deletion.on_deleted, inside the deletion's
transaction): the record's attachments go and its CRM folder goes to the trash
(services.record_deleted)."""

from crm import deletion

from . import services


@deletion.on_deleted
def record_deleted(content_type, pk) -> None:
    services.record_deleted(content_type, pk)
