"""The tasks app's pages under /tasks/: the task pages («Мои задачи», the card, the deadline
board), the touches planned from lead and deal cards, and «Мой день». One module each, so the
three grow apart."""

from . import urls_day, urls_tasks, urls_touches

app_name = "tasks"

urlpatterns = [*urls_tasks.urlpatterns, *urls_touches.urlpatterns, *urls_day.urlpatterns]
