from django.urls import path

from . import views

app_name = "gongshi"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:code>/", views.index, name="region"),
    path("<slug:code>/board/", views.board_sheet, name="board"),
    path("notices/<int:notice_pk>/objection/", views.objection, name="objection"),
    path("objection/received/", views.objection_received, name="objection_received"),
]
