from django.contrib import admin

from ..models import Feedback, FeedbackResponse
from ..services import is_reviewer
from .readonly import ReadOnlyAdmin


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("id", "contract", "author", "recipient", "overall_hundredths", "created_at", "revealed_at")
    list_filter = ("author_is_client",)
    list_select_related = ("contract", "author", "recipient")

    # Feedback holds the private part (reason for ending, likelihood to recommend),
    # which only reviewers may read: other staff do not see this model at all.
    def has_module_permission(self, request):
        return is_reviewer(request.user)

    def has_view_permission(self, request, obj=None):
        return is_reviewer(request.user)


@admin.register(FeedbackResponse)
class FeedbackResponseAdmin(ReadOnlyAdmin):
    list_display = ("id", "feedback", "created_at")
