from django.urls import path

from . import views

app_name = "residents"

urlpatterns = [
    path("", views.hub, name="hub"),
    path("progress/", views.progress, name="progress"),
    path("payments/", views.payments, name="payments"),
    path("objection/", views.objection, name="objection"),
    path("standards/", views.standards, name="standards"),
    path("self-check/", views.self_check, name="self_check"),
]
