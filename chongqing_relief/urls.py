from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.views import healthz

urlpatterns = [
    path("", include("workbench.urls")),
    path("", include("accounts.urls")),
    path("households/", include("beneficiaries.urls")),
    path("eligibility/", include("eligibility.urls")),
    path("applications/", include("applications.urls")),
    path("applications/", include("recertification.urls")),
    path("payments/", include("payments.urls")),
    path("reports/", include("reports.urls")),
    path("gongshi/", include("notices.urls")),
    path("chaxun/", include("residents.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(("chongqing_relief.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
