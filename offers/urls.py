from django.urls import path

from . import views

urlpatterns = [
    path("offers/new/", views.offer_send_view, name="offer_send"),
    path("offers/<int:offer_id>/", views.offer_detail, name="offer_detail"),
    path("offers/<int:offer_id>/<str:action>/", views.offer_action, name="offer_action"),
    path("offers/invitations/<str:token>/", views.offer_invitation, name="offer_invitation"),
]
