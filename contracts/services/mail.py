"""Outgoing e-mail: recorded once in the transaction of what causes it
(``queue_email``), delivered by the ``deliver_email`` task after the commit
(``email_deliver``), and handed out again by the sweep when a delivery was lost
(``emails_to_resend``). The ``OutgoingEmail`` row, not the broker, says whether
an e-mail still has to go: a task delivered twice finds it claimed or sent.

Which e-mails a person may turn off (their settings, ``accounts.models.EmailTopic``)
is decided here, in ``EMAIL_TOPICS``, and nowhere else:

- **Optional** (the topic's setting decides): feedback requests and reminders, and
  the e-mail that feedback was revealed (topic *feedback*).
- **Always sent**, whatever the settings: every deadline someone must act on (a
  refund request to answer, submitted work to review, notice given, a proposal to
  end, offers and rate changes to answer), money moved (a refund made), the closure
  checklist (access to revoke, materials to return), a reviewer's warning or the
  closure of the account, and the account's own e-mails (verification, password
  reset, password or address changed). An e-mail not listed in ``EMAIL_TOPICS`` is
  always sent.
"""

from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import EmailTopic
from accounts.profiles import user_time_zone, wants_email

from ..models import EmailState, OutgoingEmail
from ..tasks import EMAIL_RETRY_BACKOFF_MAX_SECONDS
from ..tasks import deliver_email as deliver_email_task

# The e-mails a person may turn off, by template, and the topic that turns each off.
EMAIL_TOPICS = {
    "feedback_request": EmailTopic.FEEDBACK,
    "feedback_reminder": EmailTopic.FEEDBACK,
    "feedback_revealed": EmailTopic.FEEDBACK,
}


def queue_email(*, key: str, user, subject: str, template: str, context: dict, to: str = "") -> OutgoingEmail | None:
    """Record an e-mail once under ``key`` and deliver it after the transaction commits.

    ``template`` names ``templates/emails/<template>.txt`` and ``.html``, rendered
    for the recipient: times in their time zone (UTC until it is known), the zone
    named. It goes to ``to`` when given (an account's new address, or an address
    with no account, ``user`` None), else to the user's address. Users without an
    e-mail address, or who turned off the e-mail's topic (``EMAIL_TOPICS``), get
    only the in-app notification: nothing is recorded.
    """
    address = to or (user.email if user is not None else "")
    if not address:
        return None
    topic = EMAIL_TOPICS.get(template)
    if topic is not None and not wants_email(user, topic):
        return None
    context = {**context, "user": user, "base_url": settings.PORTAL_BASE_URL}
    with timezone.override(user_time_zone(user)):
        body_text = render_to_string(f"emails/{template}.txt", context)
        body_html = render_to_string(f"emails/{template}.html", context)
    email, created = OutgoingEmail.objects.get_or_create(
        key=key,
        defaults={"to": address, "subject": subject, "body_text": body_text, "body_html": body_html},
    )
    if created:
        deliver_email_task.delay_on_commit(email.pk)
    return email


def email_deliver(*, email_id: int, last_attempt: bool) -> str:
    """Send a recorded e-mail once: claim it, send it, mark it sent.

    Each step commits on its own, deliberately outside one transaction: the claim
    must be visible to every other worker before the message leaves (a second
    delivery of the task then finds it claimed and does nothing), and a sent message
    cannot be rolled back. A claim older than ``EMAIL_CLAIM_STALE_SECONDS`` belongs to
    a worker that died while sending and may be taken over. A failed send records
    the error and puts the e-mail back to pending for the task's retry, or marks it
    failed on the ``last_attempt``, and raises the error again for the task to retry.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EMAIL_CLAIM_STALE_SECONDS)
    claimed = (
        OutgoingEmail.objects.filter(pk=email_id)
        .filter(Q(state=EmailState.PENDING) | Q(state=EmailState.SENDING, claimed_at__lt=stale))
        .update(state=EmailState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "already sent or being sent"
    email = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.to])
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except (SMTPException, OSError) as error:
        OutgoingEmail.objects.filter(pk=email_id).update(
            state=EmailState.FAILED if last_attempt else EmailState.PENDING, last_error=str(error)[:2000]
        )
        raise
    OutgoingEmail.objects.filter(pk=email_id).update(state=EmailState.SENT, sent_at=timezone.now())
    return "sent"


def emails_to_resend(*, limit: int, now=None) -> list[int]:
    """E-mails whose delivery task was lost: never claimed a while after they were
    recorded, waiting for a retry far longer than the longest backoff, or claimed by
    a worker that died while sending. A failed send waiting for its retry is left
    to that retry, so a mail server that is down is not asked again every sweep."""
    now = now or timezone.now()
    unsent_after = timedelta(seconds=settings.EMAIL_RESEND_UNSENT_AFTER_SECONDS)
    retry_lost_after = timedelta(seconds=EMAIL_RETRY_BACKOFF_MAX_SECONDS) + unsent_after
    return list(
        OutgoingEmail.objects.filter(
            Q(state=EmailState.PENDING, claimed_at__isnull=True, created_at__lt=now - unsent_after)
            | Q(state=EmailState.PENDING, claimed_at__lt=now - retry_lost_after)
            | Q(state=EmailState.SENDING, claimed_at__lt=now - timedelta(seconds=settings.EMAIL_CLAIM_STALE_SECONDS))
        ).values_list("id", flat=True)[:limit]
    )
