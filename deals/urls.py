from django.urls import path

from . import views, views_board, views_list

app_name = "deals"

urlpatterns = [
    path("", views_board.board, name="board"),
    path("board/column/<int:stage>/", views_board.column, name="board_column"),
    path("list/", views_list.deal_list, name="list"),
    path("new/", views.deal_create, name="create"),
    path("<int:pk>/", views.deal_detail, name="detail"),
    path("<int:pk>/edit/", views.deal_edit, name="edit"),
    path("<int:pk>/move/", views.deal_move, name="move"),
    path("<int:pk>/pipeline/", views.deal_change_pipeline, name="change_pipeline"),
    path("<int:pk>/products/", views.deal_products, name="products"),
]
