"""Background tasks of notifications (Django's tasks API; the worker is `manage.py db_worker`)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from crm.timeline import say

from .models import Notification
from .services import email_attachments, wants_email


@task()
def send_email(notification_id: int) -> bool:
    """E-mail one notification. Idempotent: one already sent (or gone, or no longer wanted) is
    left alone, so a task run twice sends one letter. The row is locked while sending so two
    workers do not both send it."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update().select_related("recipient")
                        .filter(pk=notification_id, emailed_at__isnull=True).first())
        if notification is None:
            return False
        recipient = notification.recipient
        if not recipient.email or not wants_email(recipient, notification.kind):
            return False
        # The user's language is not stored: letters are in the site's language.
        with translation.override(settings.LANGUAGE_CODE):
            text = say(notification.message)
            body = text
            if notification.url:
                body += "\n\n" + settings.CRM_URL.rstrip("/") + notification.url
            body += "\n\n" + _("Настроить письма: %(url)s") % {"url": settings.CRM_URL.rstrip("/") + "/profile/"}
            letter = EmailMessage(_("«Решение» CRM: %(text)s") % {"text": text}, body, None, [recipient.email])
            for filename, content, mimetype in email_attachments(notification):
                letter.attach(filename, content, mimetype)
            letter.send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True
