from django.contrib import admin

from .admin_automation import ReadOnlyAdmin
from .models import Feedback, FeedbackResponse


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("id", "contract", "author", "recipient", "overall_hundredths", "created_at", "revealed_at")
    list_filter = ("author_is_client",)
    list_select_related = ("contract", "author", "recipient")


@admin.register(FeedbackResponse)
class FeedbackResponseAdmin(ReadOnlyAdmin):
    list_display = ("id", "feedback", "created_at")
