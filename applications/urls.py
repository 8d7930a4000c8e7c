from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    path("intake/<int:household_pk>/", views.intake, name="intake"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/notice/", views.notice, name="notice"),
]
