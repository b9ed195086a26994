from django.urls import path

from . import views, views_kanban, views_list

app_name = "leads"

urlpatterns = [
    path("", views_list.lead_list, name="list"),
    path("bulk/", views_list.lead_bulk, name="bulk"),
    path("kanban/", views_kanban.board, name="kanban"),
    path("kanban/column/<str:status>/", views_kanban.column, name="kanban_column"),
    path("new/", views.lead_create, name="create"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/group/<slug:slug>/", views.lead_group, name="group"),
    path("<int:pk>/group/<slug:slug>/edit/", views.lead_group_edit, name="group_edit"),
    path("<int:pk>/move/", views.lead_move, name="move"),
    path("<int:pk>/junk/", views.lead_junk, name="junk"),
    path("<int:pk>/convert/", views.lead_convert, name="convert"),
]
