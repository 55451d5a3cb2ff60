"""What a username chosen at sign-up may be.

A username is public (``/people/<username>/``) and signs in like the e-mail address,
so it may not look like one: letters, digits, dots, hyphens and underscores only,
never an ``@``. Accounts made before (demo data, the admin) keep theirs.
"""

from django.core.validators import MaxLengthValidator, RegexValidator

USERNAME_MAX_LENGTH = 30

USERNAME_VALIDATORS = [
    RegexValidator(
        r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z",
        "Use letters, digits, dots, hyphens and underscores only, starting and ending with a letter or digit.",
        code="invalid_username",
    ),
    MaxLengthValidator(USERNAME_MAX_LENGTH, f"Use at most {USERNAME_MAX_LENGTH} characters."),
]
