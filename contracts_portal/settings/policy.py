"""Every number of the marketplace's policy, in one place.

Code reads these through ``django.conf.settings`` so that tests and deployments
can change a policy without touching the rules that apply it.
"""

# Fees, in basis points (1/100 of a percent), applied to integer cents.
FREELANCER_SERVICE_FEE_BPS = 1000  # 10% of each payment to the freelancer
CLIENT_MARKETPLACE_FEE_BPS = 500  # 5% of each charge to the client

# A payment can be refunded while it is at most this many whole days old: the
# window during which clients can still dispute a charge with their bank, so a
# freelancer can settle a complaint in the portal instead of by chargeback.
REFUND_WINDOW_DAYS = 180

MILESTONE_MINIMUM_CENTS = 500
MILESTONE_MAXIMUM_CENTS = 1_000_000_00  # $1,000,000.00: larger work is split into milestones
MILESTONE_AUTO_RELEASE_DAYS = 14
REFUND_REQUEST_RESPONSE_DAYS = 7
END_PROPOSAL_EXPIRY_DAYS = 7
RATE_CHANGE_EXPIRY_DAYS = 7  # a proposed hourly rate not accepted by then lapses, like a proposed end
FEEDBACK_WINDOW_DAYS = 14
FEEDBACK_REMINDER_DAY = 7
MAX_NOTICE_DAYS = 30  # the longest notice period an offer may set
OFFER_EXPIRY_DAYS = 7  # an offer not answered by then expires
# An offer's start date and its milestones' due dates are at most this far ahead.
OFFER_HORIZON_DAYS = 730

# Hourly weeks run Monday 00:00 to Sunday 23:59 UTC; last week's diary stays
# editable until this hour (UTC) on Monday, when the week is invoiced.
HOURLY_WEEK_INVOICE_HOUR_UTC = 12
MAX_WEEKLY_HOUR_LIMIT = 168
MAX_HOURLY_RATE_CENTS = 10_000_00  # $10,000.00 an hour

# Public feedback is shown only for contracts whose payments, after refunds, reach
# this much: feedback on a contract nobody paid for says little and is easy to fake.
PUBLIC_FEEDBACK_MIN_NET_CENTS = 100

# Work between two people who met on the platform is paid through it for this long
# after they met (the terms' non-circumvention clause, told to a warned user).
NON_CIRCUMVENTION_MONTHS = 24

# Circumvention detection (contracts/detection.py).
CIRCUMVENTION_QUICK_END_DAYS = 7  # ended this soon after starting, escrow returned, nothing paid
CIRCUMVENTION_QUICK_REFUND_PERCENT = 80  # a freelancer refunding at least this share of a payment...
CIRCUMVENTION_QUICK_REFUND_DAYS = 7  # ...within this many days of it

# Accounts: how long the links e-mailed to verify an address or to reset a password work
# (each works once).
EMAIL_VERIFICATION_LINK_DAYS = 3
PASSWORD_RESET_LINK_HOURS = 24
