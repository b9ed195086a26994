"""URLs of tasks_app (tasks): joined into the «tasks» namespace by tasks_app/urls.py."""

from django.urls import path

from . import views_bindings as bindings
from . import views_tasks as views

urlpatterns: list = [
    path("", views.task_list, name="list"),
    path("new/", views.task_create, name="create"),
    path("board/", views.board, name="board"),
    path("board/counts/", views.board_counts, name="board_counts"),
    path("menu-counters/", views.menu_counters, name="menu_counters"),
    path("<int:pk>/", views.task_detail, name="detail"),
    path("<int:pk>/edit/", views.task_edit, name="edit"),
    path("<int:pk>/delete/", views.task_delete, name="delete"),
    path("<int:pk>/transition/", views.task_transition, name="transition"),
    path("<int:pk>/deadline/", views.board_move, name="board_move"),
    path("<int:pk>/bindings/search/", bindings.task_bind_search, name="task_bind_search"),
    path("<int:pk>/bindings/add/", bindings.task_bind, name="bind"),
    path("<int:pk>/bindings/remove/", bindings.task_unbind, name="unbind"),
    path("bindings/search/", bindings.bind_search, name="bind_search"),
    path("bindings/chosen/", bindings.bind_chips, name="bind_chips"),
    path("<int:pk>/checklist/", views.checklist_add, name="checklist_add"),
    path("<int:pk>/checklist/<int:item>/tick/", views.checklist_tick, name="checklist_tick"),
    path("<int:pk>/checklist/<int:item>/delete/", views.checklist_delete, name="checklist_delete"),
]
