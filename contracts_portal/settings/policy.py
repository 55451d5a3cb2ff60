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
MILESTONE_AUTO_RELEASE_DAYS = 14
REFUND_REQUEST_RESPONSE_DAYS = 7
END_PROPOSAL_EXPIRY_DAYS = 7
FEEDBACK_WINDOW_DAYS = 14
FEEDBACK_REMINDER_DAY = 7
MAX_NOTICE_DAYS = 30  # the longest notice period an offer may set

# Hourly weeks run Monday 00:00 to Sunday 23:59 UTC; last week's diary stays
# editable until this hour (UTC) on Monday, when the week is invoiced.
HOURLY_WEEK_INVOICE_HOUR_UTC = 12
MAX_WEEKLY_HOUR_LIMIT = 168

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
