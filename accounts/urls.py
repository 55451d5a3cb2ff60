from allauth.account import views as allauth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("settings/", views.account_settings, name="account_settings"),
    path("settings/profile/", views.profile_settings, name="profile_settings"),
    path("settings/emails/", views.email_settings, name="email_settings"),
    # django-allauth's sign-in and sign-out, also under the names the portal reverses
    # (LOGIN_URL = "login"); the same paths as allauth's own, which follow.
    path("accounts/login/", allauth_views.login, name="login"),
    path("accounts/logout/", allauth_views.logout, name="logout"),
    path("accounts/", include("allauth.account.urls")),
]
