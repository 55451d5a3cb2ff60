"""Admin for circumvention flags and their decisions: reviewers only, read-only.

Decisions are made through ``flag_decide``: in bulk with the "Dismiss selected
flags" action, or one at a time on the review page each flag links to."""

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from contracts_portal.errors import DomainError

from ..models import Flag, FlagDecision, FlagDecisionKind
from ..services import flag_decide, is_reviewer
from ..views.review import STATUSES, flags_with_status
from .readonly import ReadOnlyInline

ADMIN_DISMISS_NOTE = "Dismissed from the admin list"


class ReviewersOnlyAdmin(admin.ModelAdmin):
    """Shown to reviewers (``contracts.review_flags``) only, and never edited here."""

    def has_module_permission(self, request):
        return is_reviewer(request.user)

    def has_view_permission(self, request, obj=None):
        return is_reviewer(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FlagStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in STATUSES.items() if value != "all"]

    def queryset(self, request, queryset):
        if self.value() in STATUSES and self.value() != "all":
            return queryset.filter(status=self.value())
        return queryset


class FlagDecisionInline(ReadOnlyInline):
    model = FlagDecision
    fields = ("created_at", "decision", "decided_by", "note")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def has_view_permission(self, request, obj=None):
        return is_reviewer(request.user)


@admin.register(Flag)
class FlagAdmin(ReviewersOnlyAdmin):
    list_display = ("rule", "subject", "contract", "created_at", "status", "review_link")
    list_filter = ("rule", FlagStatusFilter)
    search_fields = ("subject__username", "subject__email", "contract__title", "explanation")
    list_select_related = ("subject", "contract")
    date_hierarchy = "created_at"
    fields = ("rule", "subject", "contract", "created_at", "explanation", "evidence_pretty", "review_link")
    readonly_fields = fields
    inlines = [FlagDecisionInline]
    actions = ["dismiss_selected"]

    def get_queryset(self, request):
        return flags_with_status(super().get_queryset(request))

    @admin.display(description="status", ordering="status")
    def status(self, flag):
        return flag.status.capitalize()

    @admin.display(description="evidence")
    def evidence_pretty(self, flag):
        return format_html("<pre>{}</pre>", json.dumps(flag.evidence, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.display(description="review")
    def review_link(self, flag):
        return format_html("<a href='{}'>Review page</a>", reverse("review_flag", args=[flag.pk]))

    @admin.action(description="Dismiss selected flags", permissions=["review"])
    def dismiss_selected(self, request, queryset):
        dismissed = 0
        for flag in queryset.order_by("pk"):
            try:
                flag_decide(flag=flag, by=request.user, decision=FlagDecisionKind.DISMISS, note=ADMIN_DISMISS_NOTE)
            except DomainError as error:
                self.message_user(request, f"Flag #{flag.pk} ({flag}): {error.message}", messages.ERROR)
            else:
                dismissed += 1
        if dismissed:
            self.message_user(request, f"{dismissed} flag{'s' if dismissed != 1 else ''} dismissed.", messages.SUCCESS)

    def has_review_permission(self, request):
        return is_reviewer(request.user)


@admin.register(FlagDecision)
class FlagDecisionAdmin(ReviewersOnlyAdmin):
    list_display = ("created_at", "flag", "decision", "decided_by", "note")
    list_filter = ("decision",)
    search_fields = ("flag__subject__username", "decided_by__username", "note")
    list_select_related = ("flag__subject", "decided_by")
    date_hierarchy = "created_at"
    readonly_fields = ("flag", "decision", "note", "decided_by", "created_at")
    fields = readonly_fields
