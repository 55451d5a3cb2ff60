from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.hashers import make_password
from django.views.decorators.debug import sensitive_variables

from ..models import AccountSuspension


class SignInForm(AuthenticationForm):
    """Sign-in that tells the holder of a closed account why it was closed.

    Only someone who knows the account's password learns that it was suspended, and
    why: with a wrong password the error is the generic one, whatever the account.
    """

    @sensitive_variables()
    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as error:
            if error.code != "invalid_login":
                raise
            refusal = self._refusal_for_inactive_account()
            if refusal is None:
                raise
            raise refusal from None

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        # An account suspended but still active (changed by hand) stays closed.
        suspension = AccountSuspension.objects.filter(user=user).first()
        if suspension is not None:
            raise forms.ValidationError(suspension.closed_message, code="suspended")

    @sensitive_variables()
    def _refusal_for_inactive_account(self) -> forms.ValidationError | None:
        """Why an inactive account with the right password cannot sign in, or None.

        The password is checked once for every failed sign-in, so the time taken does
        not tell an inactive account apart from any other failure.
        """
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return None
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user = None
        if user is None or user.is_active:
            make_password(password)
            return None
        if not user.check_password(password):
            return None
        suspension = AccountSuspension.objects.filter(user=user).first()
        if suspension is not None:
            return forms.ValidationError(suspension.closed_message, code="suspended")
        return forms.ValidationError(self.error_messages["inactive"], code="inactive")
