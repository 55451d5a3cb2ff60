# An offer's expiry is a scheduled job, and its transitions are history rows, before
# there is a contract: both may now be without one (offers app).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("contracts", "0008_contract_manual_time_and_agreed_description"),
    ]

    operations = [
        migrations.AlterField(
            model_name="scheduledjob",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty only for an offer's expiry: an offer is not a contract yet.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="scheduled_jobs",
                to="contracts.contract",
            ),
        ),
        migrations.AlterField(
            model_name="scheduledjob",
            name="kind",
            field=models.CharField(
                choices=[
                    ("closure_checklist", "Closure checklist"),
                    ("feedback_request", "Feedback request"),
                    ("feedback_reminder", "Feedback reminder (day 7)"),
                    ("feedback_window_close", "Feedback window closes (day 14)"),
                    ("notice_elapse", "Notice period ends the contract"),
                    ("milestone_auto_release", "Unreviewed work released (14 days)"),
                    ("refund_request_auto_approve", "Unanswered refund request approved (7 days)"),
                    ("end_proposal_expiry", "End proposal expires (7 days)"),
                    ("rate_change_expiry", "Proposed rate lapses (7 days)"),
                    ("offer_expiry", "Unanswered offer expires (7 days)"),
                    ("weekly_invoice", "Hourly week invoiced (Monday 12:00 UTC)"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="scheduledjob",
            name="subject_id",
            field=models.PositiveBigIntegerField(
                blank=True, help_text="Milestone, refund request, rate change or offer id.", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="scheduledjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("contract__isnull", False),
                    models.Q(("kind", "offer_expiry"), ("subject_id__isnull", False)),
                    _connector="OR",
                ),
                name="job_of_a_contract_or_an_offer",
            ),
        ),
        migrations.AlterField(
            model_name="statechange",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="state_changes",
                to="contracts.contract",
            ),
        ),
        migrations.AddIndex(
            model_name="statechange",
            index=models.Index(fields=["subject", "subject_id"], name="statechange_subject"),
        ),
    ]
