from django.urls import path

from . import views
from .lead_views import lead_urlpatterns

app_name = "applications"

urlpatterns = [
    path("intake/<int:household_pk>/", views.intake, name="intake"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/notice/", views.notice, name="notice"),
    path("<int:pk>/scans/", views.scan_upload, name="scan_upload"),
    path("<int:pk>/scans/<int:scan_pk>/", views.scan_download, name="scan_download"),
    *lead_urlpatterns,
]
