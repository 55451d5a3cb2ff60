from django.contrib import admin
from django.urls import path

from contracts import views

admin.site.site_header = "Contracts portal administration"
admin.site.site_title = "Contracts portal admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
]
