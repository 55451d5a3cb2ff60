"""A small portal with one of everything a URL can point at, and the people who may
or may not open it: the set-up of the authorization matrix and of the fuzzed forms.

Clara is the client and Felix the freelancer of every contract; Uma is signed in but
party to nothing; Sam is staff with every permission of the portal's apps except
reviewing; Rita is a reviewer (staff with ``contracts.review_flags``). Their e-mail
addresses are verified; Nora signed up a moment ago and has not verified hers yet.
Everything is made through the services, so every row is one the portal itself
would make.
"""

import hashlib
import uuid
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from contracts import services
from contracts.models import EscrowRefundRequest, Feedback, Flag, FlagRule, Notification, NotificationKind
from contracts.services import MilestoneChoice, MilestoneDecision
from tests.factories import (
    DiaryEntryFactory,
    FixedContractFactory,
    HourlyContractFactory,
    MilestoneFactory,
    UserFactory,
)
from tests.fixtures.feedback import client_feedback, ended_contract, freelancer_feedback
from tests.fixtures.offers import fixed_offer
from tests.fixtures.pages import browser_for
from tests.fixtures.people import staff_reviewer, verified

ROLES = ("anonymous", "unrelated", "client", "freelancer", "staff", "reviewer")


@dataclass
class World:
    people: dict = field(default_factory=dict)
    unverified_address: object = None  # Nora's e-mail address, waiting for its link
    hourly: object = None
    entry: object = None
    fixed: object = None
    milestone: object = None  # funded, in escrow, on ``fixed``
    submitted: object = None  # work submitted, on ``fixed``
    payment: object = None  # a released milestone's payment to Felix, on ``fixed``
    ended: object = None  # ended by the client, both left feedback (revealed)
    feedback: object = None  # Clara's feedback about Felix on ``ended``
    checklist_item: object = None  # one of Felix's closure steps on ``ended``
    ended_quiet: object = None  # ended by the client, no feedback yet
    refund_request: object = None  # pending: Clara paid nothing of a funded milestone
    disputed: object = None  # a refund request Felix disputed
    flag: object = None  # about Felix
    notification: object = None  # Felix's, unread
    offer: object = None  # Clara's fixed-price offer to Felix, waiting for his answer
    invitation: object = None  # Clara's offer to zoe@example.org, an address without an account
    rated: object = None  # hourly, with Felix's proposal of a new rate waiting for Clara's answer
    rate_proposal: object = None  # that proposal

    def user(self, role: str):
        return self.people.get(role)

    def browser(self, role: str, **kwargs) -> Client:
        user = self.user(role)
        return Client(**kwargs) if user is None else browser_for(user, **kwargs)


def make_staff(username: str):
    """Staff with every permission of the portal's apps except reviewing."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=("contracts", "billing")).exclude(
            codename="review_flags"
        )
    )
    return user


def build_world() -> World:
    clara = UserFactory(username="clara")
    felix = UserFactory(username="felix")
    world = World(
        people={
            "anonymous": None,
            "unrelated": UserFactory(username="uma"),
            "client": clara,
            "freelancer": felix,
            "staff": make_staff("sam"),
            "reviewer": staff_reviewer("rita"),
        }
    )
    for person in world.people.values():
        if person is not None:
            verified(person)
    world.unverified_address = EmailAddress.objects.create(
        user=UserFactory(username="nora"), email="nora@example.com", verified=False, primary=True
    )
    parties = {"client": clara, "freelancer": felix}

    world.hourly = HourlyContractFactory(title="Hourly API work", **parties)
    world.entry = DiaryEntryFactory(contract=world.hourly, memo="Built the endpoint")

    world.fixed = FixedContractFactory(title="Logo design", **parties)
    world.milestone = MilestoneFactory(contract=world.fixed, title="Drafts", amount_cents=200_00)
    services.milestone_fund(milestone=world.milestone, by=clara)
    world.submitted = MilestoneFactory(contract=world.fixed, title="Final files", amount_cents=150_00)
    services.milestone_fund(milestone=world.submitted, by=clara)
    services.milestone_submit(milestone=world.submitted, by=felix, note="Files attached")
    paid = MilestoneFactory(contract=world.fixed, title="Sketches", amount_cents=100_00)
    services.milestone_fund(milestone=paid, by=clara)
    world.payment = services.milestone_release(milestone=paid, by=clara, idempotency_key=uuid.uuid4().hex)

    world.ended = ended_contract(title="Brochure", **parties)
    world.feedback = client_feedback(world.ended)
    freelancer_feedback(world.ended)
    world.feedback = Feedback.objects.get(pk=world.feedback.pk)
    world.checklist_item = world.ended.checklist_items.filter(user=felix).order_by("position").first()

    refunded = FixedContractFactory(title="Banner", **parties)
    held = MilestoneFactory(contract=refunded, title="Banner drafts", amount_cents=80_00)
    services.milestone_fund(milestone=held, by=clara)
    services.contract_end(
        contract=refunded,
        by=clara,
        reason="completed",
        milestone_decisions={held.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    world.refund_request = EscrowRefundRequest.objects.get(milestone=held)
    world.ended_quiet = ended_contract(title="Flyer", **parties)

    poster = FixedContractFactory(title="Poster", **parties)
    contested = MilestoneFactory(contract=poster, title="Poster", amount_cents=60_00)
    services.milestone_fund(milestone=contested, by=clara)
    services.contract_end(
        contract=poster,
        by=clara,
        reason="completed",
        milestone_decisions={contested.pk: MilestoneDecision(MilestoneChoice.PAY_NOTHING)},
    )
    disputed = EscrowRefundRequest.objects.get(milestone=contested)
    services.refund_request_dispute(request=disputed, by=felix, statement="I delivered the poster.")
    world.disputed = disputed

    world.flag = Flag.objects.create(
        rule=FlagRule.OFF_PLATFORM_CONTACT,
        subject=felix,
        contract=world.ended,
        explanation="Asked to be paid outside the platform.",
        evidence={"text": "pay me on PayPal"},
        dedupe_key=f"world-{uuid.uuid4().hex}",
    )
    world.rated = HourlyContractFactory(title="Hourly support", **parties)
    world.rate_proposal = services.rate_change_propose(contract=world.rated, by=felix, rate_cents=60_00)

    world.offer = fixed_offer(clara, felix, title="Website redesign")
    world.invitation = fixed_offer(clara, "zoe@example.org", title="Illustrations")
    world.notification = Notification.objects.create(
        user=felix, contract=world.hourly, kind=NotificationKind.CONTRACT, message="Something happened"
    )
    for item in (
        world.hourly,
        world.fixed,
        world.milestone,
        world.submitted,
        world.ended,
        world.refund_request,
        world.disputed,
        world.rated,
        world.rate_proposal,
        world.offer,
        world.invitation,
    ):
        item.refresh_from_db()
    return world


# "Nothing stored": a fingerprint of every row of the portal's own tables, and of the
# e-mail addresses of accounts (django-allauth's ``account`` app: a sign-up stores one).

FINGERPRINT_APPS = ("accounts", "account", "contracts", "billing", "offers")


def _tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for app in FINGERPRINT_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.proxy
    )


def fingerprint() -> dict[str, tuple[int, str]]:
    """(row count, digest of every row) of each table of the accounts, contracts and
    billing apps: profiles, contracts, diary, milestones, money, feedback, flags,
    notifications, jobs."""
    tables = _tables()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            parts = [
                f"SELECT '{table}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                f"FROM {connection.ops.quote_name(table)} t"
                for table in tables
            ]
            cursor.execute(" UNION ALL ".join(parts))
            return {name: (count, digest) for name, count, digest in cursor.fetchall()}
        result = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = sorted(repr(row) for row in cursor.fetchall())
            result[table] = (len(rows), hashlib.sha256("|".join(rows).encode()).hexdigest())
        return result


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))
