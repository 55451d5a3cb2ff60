"""Terms changed during contracts: weekly limits set by clients, rates proposed and
the rates accepted. Read-only: each is changed only through the portal's services,
by the parties (and the accepted rows are refused any change by PostgreSQL)."""

from django.contrib import admin

from ..models import RateChange, RateChangeProposal, WeeklyLimitChange
from .access import ReviewersMayView
from .readonly import ReadOnlyAdmin


@admin.register(WeeklyLimitChange)
class WeeklyLimitChangeAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "contract", "hours", "effective_from", "changed_by", "created_at")
    list_select_related = ("contract", "changed_by")
    search_fields = ("contract__title",)


@admin.register(RateChangeProposal)
class RateChangeProposalAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "contract", "rate_cents", "proposed_by", "state", "proposed_at", "effective_from")
    list_filter = ("state",)
    list_select_related = ("contract", "proposed_by")
    search_fields = ("contract__title",)


@admin.register(RateChange)
class RateChangeAdmin(ReviewersMayView, ReadOnlyAdmin):
    list_display = ("id", "contract", "rate_cents", "effective_from", "created_at")
    list_select_related = ("contract",)
    search_fields = ("contract__title",)
