"""The REST test server's application (tests/rest/conftest.py, rest_server): Django's, with the
content types' cache emptied before each request. The tests' database is emptied between
transactional tests and the content types come back with new ids; a server process that kept
the old ones wrote history and task bindings with ids that no longer exist."""

from django.core.wsgi import get_wsgi_application

_django = get_wsgi_application()


def application(environ, start_response):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    return _django(environ, start_response)
