from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from contracts import views

admin.site.site_header = "Contracts portal administration"
admin.site.site_title = "Contracts portal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
