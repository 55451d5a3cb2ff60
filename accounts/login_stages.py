"""The stages of signing in (django-allauth's login stages) the portal changes.

Loaded by allauth when someone signs in or up (``PortalAccountAdapter.get_login_stages``),
never at start-up: importing allauth's stages while allauth loads is circular.
"""

from allauth.account.stages import EmailVerificationStage
from django.contrib import messages

from .verification import email_is_verified


class SignUpVerificationStage(EmailVerificationStage):
    """Verification of the address, the portal's way: a sign-up (a new account, or an
    address already registered, answered alike) ends on "check your inbox" until the
    link is followed; signing in to an existing account goes on, with a reminder when
    its address is not verified yet (it may not send offers until it is)."""

    def handle(self):
        if self.login.signup:
            return super().handle()
        user = self.login.user
        if user is not None and not email_is_verified(user):
            messages.warning(
                self.request,
                "Your e-mail address is not verified yet: follow the link we e-mailed you, or send a new one "
                "from Settings. You can send offers once it is verified.",
            )
        return None, True
