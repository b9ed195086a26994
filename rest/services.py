"""The only writers of webhooks: making one (its code returned once, only the hash kept), revoking,
and what every call writes — the last use and the rate limit's bucket."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Scope, Webhook
from .registry import RestError

CODE_ALPHABET = string.ascii_lowercase + string.digits
CODE_LENGTH = 32
# With the rate limit off, a webhook's last use is kept to the minute (rest.services.record_use).
LAST_USE_STEP = dt.timedelta(minutes=1)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def webhook_create(user, *, name: str = "", scopes: list[str] | tuple[str, ...] = ()) -> tuple[Webhook, str]:
    """A new webhook of `user` and its code (shown once: only its hash is stored)."""
    allowed = set(Scope.values)
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    chosen = [s for s in Scope.values if s in set(scopes)]
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    webhook = Webhook.objects.create(user=user, name=name.strip()[:100], code_hash=hash_code(code),
                                     scopes=",".join(chosen))
    return webhook, code


def webhook_revoke(webhook: Webhook) -> bool:
    """Revoke (kept, for the record of its use); False if it was revoked already."""
    done = Webhook.objects.filter(pk=webhook.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    webhook.refresh_from_db(fields=["revoked_at"])
    return bool(done)


def base_path(user_id: int, code: str) -> str:
    return f"/rest/{user_id}/{code}/"


def authenticate(user_id: int, code: str) -> Webhook:
    """The live webhook of this user with this code, or Bitrix24's INVALID_CREDENTIALS (the same
    answer for a wrong code, a revoked webhook and an inactive user: nothing is told). The hashes
    are compared in constant time."""
    digest = hash_code(code)
    found = None
    for webhook in Webhook.objects.filter(user_id=user_id, revoked_at__isnull=True).select_related("user"):
        if hmac.compare_digest(webhook.code_hash, digest):
            found = webhook
    if found is None or not found.user.is_active:
        raise RestError("INVALID_CREDENTIALS", "Invalid request credentials", 403)
    return found


def record_use(webhook: Webhook, ip: str | None) -> None:
    """The last use, and the leaky bucket (REST_RATE requests a second leak out of a bucket of
    REST_BURST): a request that finds it full is QUERY_LIMIT_EXCEEDED and is not counted. The row
    is locked, so the workers of the server count one bucket."""
    now = time.time()
    limit = getattr(settings, "REST_RATE_LIMIT", True)
    if not limit:
        # No bucket to count: the last use is written when it moved by a minute or came from
        # another address — not a locked write per call (a client keeps 50 calls in flight).
        stamp = timezone.now()
        if (webhook.last_used_at is None or stamp - webhook.last_used_at >= LAST_USE_STEP
                or webhook.last_used_ip != (ip or None)):
            Webhook.objects.filter(pk=webhook.pk).update(last_used_at=stamp, last_used_ip=ip or None)
        return
    with transaction.atomic():
        row = Webhook.objects.select_for_update().only("bucket", "bucket_at").get(pk=webhook.pk)
        level = max(0.0, row.bucket - (now - row.bucket_at) * settings.REST_RATE) if limit else 0.0
        if limit and level + 1 > settings.REST_BURST:
            raise RestError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)
        Webhook.objects.filter(pk=webhook.pk).update(bucket=level + 1, bucket_at=now, last_used_at=timezone.now(),
                                                     last_used_ip=ip or None)
