from django.urls import path

from . import views
from .lead_views import lead_urlpatterns
from .review_views import review_urlpatterns
from .staff_views import staff_urlpatterns

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("intake/<int:household_pk>/", views.intake, name="intake"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/notice/", views.notice, name="notice"),
    path("<int:pk>/form/", views.application_form, name="application_form"),
    path("<int:pk>/visit-record/", views.visit_record, name="visit_record"),
    path("<int:pk>/scans/", views.scan_upload, name="scan_upload"),
    path("<int:pk>/scans/<int:scan_pk>/", views.scan_download, name="scan_download"),
    *lead_urlpatterns,
    *review_urlpatterns,
    *staff_urlpatterns,
]
