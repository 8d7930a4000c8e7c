from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("account/two-factor/", views.second_factor, name="second_factor"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("inbox/", views.inbox, name="inbox"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
