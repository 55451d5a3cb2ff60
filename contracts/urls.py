from django.urls import path

from .views import (
    contract,
    diary,
    ending,
    feedback,
    home,
    jobs,
    milestones,
    notifications,
    profiles,
    review,
    terms,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("jobs/", jobs.my_jobs, name="my_jobs"),
    path("contracts/<int:contract_id>/", contract.contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/actions/<str:action>/", contract.contract_action, name="contract_action"),
    path("contracts/<int:contract_id>/end/", ending.contract_end_view, name="contract_end"),
    path(
        "contracts/<int:contract_id>/checklist/<int:item_id>/",
        contract.checklist_item_toggle,
        name="checklist_item_toggle",
    ),
    path("contracts/<int:contract_id>/diary/", diary.diary_page, name="diary"),
    path(
        "contracts/<int:contract_id>/diary/<int:entry_id>/edit/", diary.diary_entry_edit_view, name="diary_entry_edit"
    ),
    path(
        "contracts/<int:contract_id>/diary/<int:entry_id>/delete/",
        diary.diary_entry_delete_view,
        name="diary_entry_delete",
    ),
    path("contracts/<int:contract_id>/milestones/new/", terms.milestone_add_view, name="milestone_add"),
    path("contracts/<int:contract_id>/weekly-limit/", terms.weekly_limit_view, name="weekly_limit_change"),
    path("contracts/<int:contract_id>/rate/", terms.rate_change_view, name="rate_change"),
    path("rate-changes/<int:proposal_id>/<str:action>/", terms.rate_change_action, name="rate_change_action"),
    path("milestones/<int:milestone_id>/<str:action>/", milestones.milestone_action, name="milestone_action"),
    path(
        "refund-requests/<int:request_id>/<str:action>/",
        milestones.refund_request_action,
        name="refund_request_action",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/<int:notification_id>/", notifications.notification_open, name="notification_open"),
    path("contracts/<int:contract_id>/feedback/", feedback.feedback_form, name="feedback_form"),
    path("feedback/<int:feedback_id>/respond/", feedback.feedback_respond_view, name="feedback_respond"),
    path("people/<str:username>/", profiles.profile, name="profile"),
    path("review/", review.review_queue, name="review_queue"),
    path("review/flags/<int:flag_id>/", review.flag_detail, name="review_flag"),
    path("review/disputes/<int:request_id>/", review.dispute_detail, name="review_dispute"),
]
