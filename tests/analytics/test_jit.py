"""PostgreSQL's JIT is off for the app's connections (config/settings): at a million leads it
compiled the big aggregates for 60–200 ms each, longer than the reads themselves (issue 15)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="JIT is PostgreSQL's")
def test_it_connects_to_postgresql_with_jit_off():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
