from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Contracts portal administration"
admin.site.site_title = "Contracts portal admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("contracts.urls")),
]
