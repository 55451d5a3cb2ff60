"""The demo accounts that ``make run`` creates and the home page lists."""

# The public demo password, shown on the home page (not a secret).
DEMO_PASSWORD = "portal-demo-2026"  # nosec B105

DEMO_USERS = [
    {"username": "clara", "name": "Clara Client", "role": "Client on every demo contract"},
    {"username": "felix", "name": "Felix Freelancer", "role": "Freelancer (hourly and fixed-price)"},
    {
        "username": "fiona",
        "name": "Fiona Freelancer",
        "role": "Freelancer (fixed-price, one ended contract with a disputed refund request)",
    },
    {
        "username": "gary",
        "name": "Gary Freelancer",
        "role": "Freelancer flagged for review (quick ends, off-platform contact, a large quick refund)",
    },
    {"username": "admin", "name": "Ada Admin", "role": "Platform admin (Django admin, force end, review queue)"},
]
