"""The account forms of django-allauth (``ACCOUNT_FORMS``) with the portal's rules:
sign-in by username or e-mail address that tells a closed account why it was
closed, and sign-up with the portal's wording that survives a double click."""

from allauth.account.forms import AddEmailForm, LoginForm, ResetPasswordForm, SignupForm
from django import forms
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.shortcuts import render

from accounts.usernames import USERNAME_MAX_LENGTH

from ..models import AccountSuspension

EMAIL_MAX_LENGTH = 254  # the longest e-mail address (and allauth's column)
LOGIN_MAX_LENGTH = EMAIL_MAX_LENGTH


def limit_length(field, max_length: int, message: str) -> None:
    """A text field refused, with ``message``, beyond ``max_length`` characters (allauth's
    e-mail fields have no limit of their own, and the column does)."""
    field.max_length = max_length
    field.validators.append(MaxLengthValidator(max_length, message))
    field.widget.attrs["maxlength"] = str(max_length)


def email_field(field, *, label: str = "E-mail address") -> None:
    field.label = label
    field.widget.attrs.pop("placeholder", None)
    limit_length(field, EMAIL_MAX_LENGTH, f"An e-mail address has at most {EMAIL_MAX_LENGTH} characters.")


class SignInForm(LoginForm):
    """Sign-in that tells the holder of a closed account why it was closed.

    Only someone who knows the account's password learns that it was suspended, and
    why: with a wrong password the error is the generic one, whatever the account
    (allauth checks a password once for every sign-in, known account or not, so the
    time taken tells nothing either).
    """

    inactive_message = "This account is inactive."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or e-mail address"
        limit_length(login, LOGIN_MAX_LENGTH, "No username or e-mail address is that long.")
        login.widget.attrs["autocomplete"] = "username"
        login.widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)
        if "remember" in self.fields:
            self.fields["remember"].label = "Keep me signed in on this device"

    def clean(self):
        cleaned_data = super().clean()
        if self.user is None:
            return cleaned_data
        # allauth hands over an account whose password was right even when it may
        # not sign in (inactive): the holder is told why. An account suspended but
        # still active (changed by hand) stays closed too.
        suspension = AccountSuspension.objects.filter(user=self.user).first()
        if suspension is not None:
            raise forms.ValidationError(suspension.closed_message, code="suspended")
        if not self.user.is_active:
            raise forms.ValidationError(self.inactive_message, code="inactive")
        return cleaned_data


class SignUpForm(SignupForm):
    """allauth's sign-up (username, e-mail address, password twice) in the portal's
    words. A double click posts the same username twice at once: the second is told
    the username is taken, never a server error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.max_length = USERNAME_MAX_LENGTH
        username.widget.attrs["maxlength"] = str(USERNAME_MAX_LENGTH)
        username.help_text = (
            "Public: your profile is at /people/<username>/. Letters, digits, dots, hyphens and underscores."
        )
        email_field(self.fields["email"])
        self.fields["email"].help_text = "We e-mail you a link to verify it. Nobody else sees it."
        self.fields["password2"].label = "Password (again)"
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)

    def try_save(self, request):
        try:
            with transaction.atomic():
                return super().try_save(request)
        except IntegrityError:
            self.add_error("username", "This username was taken a moment ago: choose another.")
            return None, render(request, "account/signup.html", {"form": self}, status=400)


class PasswordResetRequestForm(ResetPasswordForm):
    """The address a password reset link is e-mailed to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email_field(self.fields["email"], label="E-mail address of your account")


class NewEmailForm(AddEmailForm):
    """The address that replaces the account's once it is verified."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        email_field(self.fields["email"], label="New e-mail address")
