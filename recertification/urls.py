from django.urls import path

from . import views

app_name = "recertification"

urlpatterns = [
    path("reviews/", views.review_queue, name="reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/visit/", views.review_visit, name="review_visit"),
    path("reviews/<int:pk>/assess/", views.review_assess, name="review_assess"),
    path("reviews/<int:pk>/decide/", views.review_decide, name="review_decide"),
    path("reviews/<int:pk>/termination/", views.review_termination, name="review_termination"),
    path(
        "reviews/<int:pk>/withdraw-termination/",
        views.review_withdraw_termination,
        name="review_withdraw_termination",
    ),
    path(
        "reviews/<int:pk>/objections/<int:objection_pk>/dismiss/",
        views.review_objection_dismiss,
        name="review_objection_dismiss",
    ),
    path("report-change/<int:household_pk>/", views.report_change, name="report_change"),
    path("entitlements/<int:pk>/class/", views.class_override, name="class_override"),
    path("standards/recalculate/", views.recalculate, name="recalculate"),
]
