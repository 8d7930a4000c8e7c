from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from accounts.api import MeView, RegionViewSet, SecurityEventViewSet, TokenView, TokenViewSet
from applications.api import ApplicationViewSet, ReferralViewSet
from beneficiaries.api import HouseholdViewSet
from core.api import not_found
from eligibility.api import AssessView
from notices.api import PublicNoticeViewSet
from payments.api import HouseholdPaymentsView, PayrollViewSet
from recertification.api import EntitlementViewSet, ReviewViewSet
from reports.api import AuditEventViewSet, ExportViewSet, ReportViewSet
from residents.api import PaymentsView, ProgressView, SelfCheckView, StandardsView

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("auth/tokens", TokenViewSet, basename="auth-token")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("security-events", SecurityEventViewSet, basename="security-event")
router.register("households", HouseholdViewSet, basename="household")
router.register("applications", ApplicationViewSet, basename="application")
router.register("referrals", ReferralViewSet, basename="referral")
router.register("public/notices", PublicNoticeViewSet, basename="public-notice")
router.register("reviews", ReviewViewSet, basename="review")
router.register("entitlements", EntitlementViewSet, basename="entitlement")
router.register("payrolls", PayrollViewSet, basename="payroll")
router.register("exports", ExportViewSet, basename="export")
router.register("reports", ReportViewSet, basename="report")

urlpatterns = [
    path("", include(router.urls)),
    path("me/", MeView.as_view(), name="me"),
    path(
        "households/<int:pk>/payments/",
        HouseholdPaymentsView.as_view(),
        name="household-payments",
    ),
    path("eligibility/assess/", AssessView.as_view(), name="eligibility-assess"),
    path("auth/token/", TokenView.as_view(), name="token"),
    path("public/progress/", ProgressView.as_view(), name="public-progress"),
    path("public/payments/", PaymentsView.as_view(), name="public-payments"),
    path("public/standards/", StandardsView.as_view(), name="public-standards"),
    path("public/self-check/", SelfCheckView.as_view(), name="public-self-check"),
    # Last: whatever names no endpoint above (an id that is not a number, an unknown action).
    re_path(r"^(?P<rest>.*)$", not_found, name="not-found"),
]
