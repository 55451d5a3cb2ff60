from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.profiles import user_time_zone

from ..models import OutgoingEmail


def queue_email(*, key: str, user, subject: str, template: str, context: dict) -> OutgoingEmail | None:
    """Record an e-mail once under ``key`` and deliver it after the transaction commits.

    ``template`` names ``templates/emails/<template>.txt`` and ``.html``, rendered
    for the recipient: times in their time zone (UTC until it is known), the zone
    named. Users without an e-mail address get only the in-app notification.
    """
    if not user.email:
        return None
    context = {**context, "user": user, "base_url": settings.PORTAL_BASE_URL}
    with timezone.override(user_time_zone(user)):
        body_text = render_to_string(f"emails/{template}.txt", context)
        body_html = render_to_string(f"emails/{template}.html", context)
    email, created = OutgoingEmail.objects.get_or_create(
        key=key,
        defaults={"to": user.email, "subject": subject, "body_text": body_text, "body_html": body_html},
    )
    if created:
        from ..tasks import deliver_email

        deliver_email.delay_on_commit(email.pk)
    return email
