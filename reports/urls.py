from django.urls import path

from . import report_views, views

app_name = "reports"

urlpatterns = [
    path("audit/", views.audit_log, name="audit_log"),
    path("jobs/", views.job_runs, name="jobs"),
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("statistics/", report_views.statistics_return, name="statistics"),
    path("statistics/download/", report_views.statistics_download, name="statistics_download"),
    path("statistics/rows/", report_views.statistics_rows, name="statistics_rows"),
    path("statistics/refresh/", report_views.statistics_refresh, name="statistics_refresh"),
    path("dashboard/", report_views.dashboard_page, name="dashboard"),
    path("dashboard/<slug:name>.csv", report_views.dashboard_table, name="dashboard_table"),
    path("indicators/", report_views.indicator_page, name="indicators"),
    path("indicators/download/", report_views.indicator_download, name="indicator_download"),
    path("figures/", report_views.figures, name="figures"),
]
