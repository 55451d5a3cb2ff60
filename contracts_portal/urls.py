from django.contrib import admin
from django.urls import include, path

# The page of someone who sent an account form too often (django-allauth's rate limits).
handler429 = "contracts.views.accounts.too_many_requests"

admin.site.site_header = "Contracts portal administration"
admin.site.site_title = "Contracts portal admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("billing.urls")),
    path("", include("contracts.urls")),
    path("", include("offers.urls")),
]
