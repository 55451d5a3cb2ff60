"""A key for each time an account form is filled in, so the e-mail a form sends is
recorded once per submission (``contracts.account_adapter``).

Each rendering of a form that e-mails (sign-up, password reset, a new verification
link) carries a new random key in a hidden field (``{% submission_key %}``). A
double click posts the same key twice: one e-mail. Filling the form in again, from
a new page, posts a new key: a new e-mail. A post without a valid key counts as a
new submission.
"""

import re
import uuid

SUBMISSION_FIELD = "submission_key"
_KEY = re.compile(r"[0-9a-f]{32}")


def new_submission_key() -> str:
    return uuid.uuid4().hex


def submitted_key(request) -> str:
    """The key the request's form carried, or a new one when it carried none."""
    if request is None or request.method != "POST":
        return new_submission_key()
    sent = request.POST.get(SUBMISSION_FIELD, "")
    return sent if isinstance(sent, str) and _KEY.fullmatch(sent) else new_submission_key()
