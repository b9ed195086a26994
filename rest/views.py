"""The webhook's address: /rest/<user id>/<code>/<method>[.json], GET or POST, answered as Bitrix24.

Order of the checks, as Bitrix24: the payload's size (413), the credentials (403
INVALID_CREDENTIALS), the rate limit (503 QUERY_LIMIT_EXCEEDED), the parameters (400), the method
(404 ERROR_METHOD_NOT_FOUND), its scope (403 insufficient_scope), then the method in one transaction.
CSRF does not apply (no cookie is read: the code in the address is the credential) and login is
not required. Every answer is JSON; nothing is a Django error page."""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.middleware import zone_of

from . import services
from .dispatch import INTERNAL, envelope, execute
from .parsing import MAX_FIELDS, check_depth, nest, parse_query
from .registry import RestError

log = logging.getLogger("rest")


def answer(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, encoder=DjangoJSONEncoder, safe=False,
                        json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@login_not_required
def call(request: HttpRequest, user_id: int, code: str, method: str) -> JsonResponse:
    started = time.time()
    try:
        webhook = _webhook(request, user_id, code)
        zone = zone_of(webhook.user)  # dates answered in the user's zone, as his pages show them
        if zone is not None:
            timezone.activate(zone)
        services.record_use(webhook, request.META.get("REMOTE_ADDR"))
        params = read_params(request)
        result = execute(webhook, method, params, request)
        return answer(envelope(result, started))
    except RestError as error:
        return answer(error.as_json(), error.status)
    except Exception:  # a bug of the kernel itself: still Bitrix24's answer, never an HTML page
        log.exception("REST call %s failed", method)
        code_, description, status = INTERNAL
        return answer({"error": code_, "error_description": description}, status)


def _webhook(request: HttpRequest, user_id: int, code: str):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length) > settings.REST_MAX_BODY:
        raise RestError("ERROR_REQUEST_TOO_LARGE",
                        f"Request is too large: at most {settings.REST_MAX_BODY} bytes", 413)
    return services.authenticate(user_id, code)


def read_params(request: HttpRequest) -> dict:
    """The query, then the body over it: JSON, a urlencoded form or multipart (its files as
    UploadedFile values), PHP-nested."""
    params = parse_query(request.META.get("QUERY_STRING", ""))
    if request.method != "POST":
        return params
    kind = (request.content_type or "").lower()
    try:
        if kind == "multipart/form-data":
            pairs = [(k, v) for k, values in request.POST.lists() for v in values]
            pairs += [(k, f) for k, files in request.FILES.lists() for f in files]
            if len(pairs) > MAX_FIELDS:
                raise RestError.invalid(f"Too many parameters (at most {MAX_FIELDS})", "INVALID_ARG_VALUE")
            params.update(nest(pairs))
            return params
        body = request.body
    except RequestDataTooBig:
        raise RestError("ERROR_REQUEST_TOO_LARGE",
                        f"Request is too large: at most {settings.REST_MAX_BODY} bytes", 413) from None
    except TooManyFieldsSent:
        raise RestError.invalid(f"Too many parameters (at most {MAX_FIELDS})", "INVALID_ARG_VALUE") from None
    except (SuspiciousOperation, MultiPartParserError, UnreadablePostError):
        raise RestError.invalid("Malformed request body", "INVALID_REQUEST") from None
    if len(body) > settings.REST_MAX_BODY:
        raise RestError("ERROR_REQUEST_TOO_LARGE", f"Request is too large: at most {settings.REST_MAX_BODY} bytes", 413)
    text = body.decode("utf-8", "replace")
    if kind == "application/json" or (not kind.startswith("application/x-www-form") and text.lstrip()[:1] in "{["
                                      and text.strip()):
        try:
            data = json.loads(text) if text.strip() else {}
        except (ValueError, RecursionError):
            raise RestError.invalid("Request body is not valid JSON", "INVALID_REQUEST") from None
        if not isinstance(data, dict):
            raise RestError.invalid("Request body must be a JSON object", "INVALID_REQUEST")
        check_depth(data)
        params.update(data)
    else:
        params.update(parse_query(text))
    return params
