from django.urls import include, path

from . import views
from .verification_views import verification_urlpatterns

app_name = "eligibility"

urlpatterns = [
    path("households/<int:pk>/", views.household_assessment, name="household"),
    path("verification/", include(verification_urlpatterns)),
]
