"""Offers in the admin: read-only, as reviewers judge a flag raised on an offer's
description or a decline reason from them. Offers change only through their services."""

from django.contrib import admin

from contracts.admin.access import ReviewersMayView
from contracts.admin.readonly import ReadOnlyAdmin, ReadOnlyInline

from .models import Offer, OfferMilestone


class OfferMilestoneInline(ReviewersMayView, ReadOnlyInline):
    model = OfferMilestone
    fields = ("position", "title", "amount_cents", "due_date")
    readonly_fields = fields


@admin.register(Offer)
class OfferAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "title", "kind", "state", "client", "freelancer", "invited_email", "expires_at", "contract")
    list_filter = ("state", "kind")
    search_fields = ("title", "client__username", "freelancer__username", "invited_email")
    list_select_related = ("client", "freelancer", "contract")
    date_hierarchy = "created_at"
    exclude = ("invitation_token",)
    inlines = [OfferMilestoneInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "invitation_token"]
