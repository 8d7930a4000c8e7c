from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("jobs/", views.job_runs, name="jobs"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
]
