from django.urls import path

from . import views

app_name = "eligibility"

urlpatterns = [
    path("households/<int:pk>/", views.household_assessment, name="household"),
]
