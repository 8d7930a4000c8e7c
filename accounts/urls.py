from django.urls import path

from . import security_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("account/two-factor/", views.second_factor, name="second_factor"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("inbox/", views.inbox, name="inbox"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("security/events/", security_views.security_events, name="security_events"),
    path("security/policy/", security_views.security_policy, name="security_policy"),
    path("security/lockouts/<int:pk>/lift/", security_views.lockout_clear, name="lockout_clear"),
]
