"""The top bar of every page names the user's department: it comes with the user, not after him."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


def test_the_top_bar_names_the_department_read_with_the_user(client, owner):
    client.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert str(owner.department) in response.content.decode()
    alone = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith('SELECT "accounts_department"') and '"accounts_department"."id" =' in q["sql"]]
    assert alone == []
