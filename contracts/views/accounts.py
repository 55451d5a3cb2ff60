from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView

from ..forms.accounts import SignInForm


class SignInView(LoginView):
    """Sign in; an account closed by the platform is told the rule it broke."""

    authentication_form = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    """Sign out (POST only) and go to LOGOUT_REDIRECT_URL."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response
