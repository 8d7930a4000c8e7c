from django.urls import path

from . import fund_views, township_views, views

app_name = "payments"

urlpatterns = [
    path("", views.payroll_list, name="payrolls"),
    path("request/", views.payroll_request, name="payroll_request"),
    path("<int:pk>/", views.payroll_detail, name="payroll"),
    path("<int:pk>/progress/", views.payroll_progress, name="payroll_progress"),
    path("<int:pk>/print/", views.payroll_print, name="payroll_print"),
    path("<int:pk>/approve/", views.payroll_approve, name="payroll_approve"),
    path("<int:pk>/cancel/", views.payroll_cancel, name="payroll_cancel"),
    path("<int:pk>/export/", views.payroll_export, name="payroll_export"),
    path("<int:pk>/result/", views.payroll_result, name="payroll_result"),
    path("bank-files/<int:pk>/", views.bank_file_download, name="bank_file"),
    path("households/<int:pk>/", township_views.household_payments, name="household"),
    path("to-fix/", township_views.payments_to_fix, name="to_fix"),
    path("lines/<int:pk>/reissue/", township_views.line_reissue, name="reissue"),
    path("overpayments/", township_views.overpayment_list, name="overpayments"),
    path(
        "overpayments/<int:pk>/resolve/",
        township_views.overpayment_resolve,
        name="overpayment_resolve",
    ),
    path("checks/", township_views.payment_checks, name="checks"),
    path("checks/<int:pk>/record/", township_views.payment_check_record, name="check_record"),
    path("checks/<int:pk>/resolve/", township_views.payment_check_resolve, name="check_resolve"),
    path("funds/", fund_views.fund_execution, name="funds"),
    path("funds/allocate/", fund_views.allocation_set, name="allocation_set"),
]
