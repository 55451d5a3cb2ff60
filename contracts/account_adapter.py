"""django-allauth fitted to the portal (``ACCOUNT_ADAPTER``).

- **E-mails go through the portal's outbox** (``queue_email``), like every other
  e-mail: recorded once, delivered by the worker, retried. Each allauth e-mail has a
  portal template and subject (``ACCOUNT_EMAILS``); all of them are essential (a
  link to verify an address or reset a password, a warning that the password
  changed), so no preference turns them off.
- **Links** point at the address the portal is served on (``PORTAL_BASE_URL``), as
  in every other e-mail, never at the Host header of the request that asked: a
  password reset link cannot be sent pointing to a host someone typed.
- **One e-mail per form sent, a new one per form filled in again.** An account
  e-mail is keyed by its kind, its address and the form's submission key (a hidden
  field each rendering of an account form gets, ``{% submission_key %}``): a double
  click sends the same key and records one e-mail, while asking again from a fresh
  page is a new e-mail. A request without a valid key always makes a new one.
- **A sign-up waits for the address to be verified, a sign-in does not**
  (``accounts.login_stages.SignUpVerificationStage``): allauth's verification is "mandatory" so that the
  sign-up form never tells whether an address is registered, and the stage lets
  an existing account sign in before its address is verified.
- Refusals are worded like the rest of the portal.
"""

import hashlib

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from accounts.submission import submitted_key
from accounts.verification import account_with_email

from .services.mail import queue_email

# allauth's e-mail (its template prefix) -> the portal's template (templates/emails/)
# and subject.
ACCOUNT_EMAILS = {
    "account/email/email_confirmation_signup": (
        "account_verify_email",
        "Verify your e-mail address for the Contracts portal",
    ),
    "account/email/email_confirmation": ("account_verify_email", "Verify your e-mail address for the Contracts portal"),
    "account/email/account_already_exists": ("account_already_exists", "You already have a Contracts portal account"),
    "account/email/password_reset_key": ("account_password_reset", "Reset your Contracts portal password"),
    "account/email/unknown_account": ("account_unknown", "No Contracts portal account uses this address"),
    "account/email/password_changed": ("account_password_changed", "Your Contracts portal password was changed"),
    "account/email/password_set": ("account_password_changed", "Your Contracts portal password was set"),
    "account/email/password_reset": ("account_password_changed", "Your Contracts portal password was reset"),
    "account/email/email_changed": ("account_email_changed", "Your Contracts portal e-mail address was changed"),
    "account/email/email_deleted": ("account_email_changed", "An e-mail address was removed from your account"),
}
# What an allauth e-mail's context may pass on to the portal's template; its links
# built from the request are left behind (the portal's own links replace them).
PASSED_ON = ("from_email", "to_email", "deleted_email", "timestamp", "ip", "user_agent")


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def portal_links() -> dict[str, str]:
    return {
        "sign_in_url": absolute(reverse("login")),
        "sign_up_url": absolute(reverse("account_signup")),
        "reset_url": absolute(reverse("account_reset_password")),
        "settings_url": absolute(reverse("account_settings")),
    }


class PortalAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # One sentence whatever was wrong, so it never tells whether an account exists.
        "username_password_mismatch": "Please enter a correct username or e-mail address and password.",  # nosec B105
        "email_password_mismatch": "Please enter a correct username or e-mail address and password.",  # nosec B105
        "username_taken": "This username is taken: choose another.",
        "username_blacklisted": "This username is reserved: choose another.",
        "invalid_password_reset": "This password reset link has expired or was already used.",  # nosec B105
        "enter_current_password": "Type your current password.",  # nosec B105
        "rate_limited": "Too many requests in a short time: wait a minute and try again.",
    }

    def get_login_stages(self) -> list[str]:
        return [
            "accounts.login_stages.SignUpVerificationStage"
            if path == "allauth.account.stages.EmailVerificationStage"
            else path
            for path in super().get_login_stages()
        ]

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return absolute(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        uidb36, _, token = key.partition("-")
        return absolute(reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": token}))

    def send_notification_mail(self, template_prefix: str, user, context=None, email=None) -> None:
        """A change to the account e-mailed to it, to the person it concerns (the address
        may no longer be theirs: the old one, after a change)."""
        super().send_notification_mail(template_prefix, user, {**(context or {}), "user": user}, email)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Record the e-mail in the portal's outbox; the worker delivers it."""
        try:
            template, subject = ACCOUNT_EMAILS[template_prefix]
        except KeyError:
            raise ImproperlyConfigured(
                f"django-allauth e-mail {template_prefix!r} has no portal template: add it to ACCOUNT_EMAILS."
            ) from None
        kind = template_prefix.rsplit("/", 1)[-1]
        address_digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]
        user = context.get("user") or account_with_email(email)
        queue_email(
            key=f"account:{kind}:{address_digest}:{submitted_key(allauth_context.request)}",
            user=user,
            to=email,
            subject=subject,
            template=template,
            context={
                **portal_links(),
                **{name: context[name] for name in PASSED_ON if name in context},
                "kind": kind,
                "email": email,
                "days": settings.EMAIL_VERIFICATION_LINK_DAYS,
                "hours": settings.PASSWORD_RESET_LINK_HOURS,
                "activate_url": context.get("activate_url", ""),
                "password_reset_url": context.get("password_reset_url", "") if kind == "password_reset_key" else "",
                "account": user,
            },
        )
