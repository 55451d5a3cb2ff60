"""The contracts app's admin, one module per area:

- ``contracts``: contracts, diary entries, milestones, refund requests and the state
  history (``force_end``: the *Force end* action and its confirmation page);
- ``accounts``: account suspensions, made through the suspension service;
- ``review``: circumvention flags and their decisions, for reviewers;
- ``feedback``: feedback and public responses, for reviewers;
- ``automation``: scheduled work, outgoing e-mail and closure checklists;
- ``terms``: weekly limits and rates changed during contracts, read-only.

``access`` (reviewers may view) and ``readonly`` (read-only admins and inlines) are
shared by these modules and by billing's admin.
"""

from . import accounts, automation, contracts, feedback, review, terms  # noqa: F401
