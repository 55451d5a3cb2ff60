from django.urls import path

from .views import refunds

urlpatterns = [
    path("refunds/", refunds.refund_list, name="refunds"),
    path("payments/<int:payment_id>/refund/", refunds.refund_payment, name="refund_payment"),
]
