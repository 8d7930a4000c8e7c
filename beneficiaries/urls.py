from django.urls import include, path

from . import views
from .import_views import import_urlpatterns

app_name = "beneficiaries"

urlpatterns = [
    path("", views.household_search, name="search"),
    path("new/", views.household_create, name="create"),
    path("person-check/", views.person_check, name="person_check"),
    path("duplicates/", views.duplicate_report, name="duplicates"),
    path("<int:pk>/", views.household_detail, name="detail"),
    path("<int:pk>/edit/", views.household_edit, name="edit"),
    path("<int:pk>/economics/", views.household_economics, name="economics"),
    path("<int:pk>/reveal/", views.household_reveal, name="reveal"),
    path("<int:pk>/move/", views.member_move, name="move"),
    path("members/<int:pk>/absence/", views.absence_decide, name="absence_decide"),
    path("<int:pk>/job-referrals/", views.job_referral, name="job_referral"),
    path("import/", include(import_urlpatterns)),
]
