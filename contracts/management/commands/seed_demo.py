"""Demo data for ``make run``: a client, three freelancers, an admin, and contracts in
every state, built through the services so every row obeys the portal's rules.

Loaded only in demo mode (``PORTAL_DEMO_MODE``: on in local settings, off in production):
every demo account has the same published password, so elsewhere the command refuses
and writes nothing.

The circumvention cases for the review queue are not written as flags: they are
things users do (gary ends contracts days after they start, asks for WhatsApp and
PayPal, refunds most of a payment; fiona disputes a refund request) and the
portal's own detectors raise the flags, as they would for anyone.

Every demo account's e-mail address is verified, as after following the sign-up
link, so each may send offers; Clara's offers wait for an answer, were declined, and
expired unanswered."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.verification import mark_email_verified
from billing.models import Payment
from billing.services.invoices import invoice_unbilled_time
from billing.services.refunds import refund_create
from contracts import services
from contracts.demo import DEMO_PASSWORD, DEMO_USERS
from contracts.models import (
    Contract,
    ContractKind,
    DiaryEntry,
    EscrowRefundRequest,
    Flag,
    FlagRule,
    RefundRequestState,
)
from contracts.services import MilestoneChoice, MilestoneDecision
from offers import services as offer_services
from offers.models import Offer

DEMO_MARKER = "[demo]"
DEMO_OFFER = "Mobile app redesign"  # the offers are loaded once: this one says they are


@contextmanager
def as_of(moment: datetime):
    """Run services as if it were ``moment``, to give the demo a history."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class Command(BaseCommand):
    help = (
        "Load the demo accounts and contracts (does nothing if they are already there). "
        "Demo mode only (PORTAL_DEMO_MODE): never on a real deployment."
    )

    def handle(self, *args, **options):
        if not settings.PORTAL_DEMO_MODE:
            module = getattr(settings, "SETTINGS_MODULE", None) or "these settings"
            raise CommandError(
                f"No demo data loaded: demo mode is off in {module} (the PORTAL_DEMO_MODE "
                "setting). Every demo account signs in with the same published password, so demo data belongs "
                "only in a local or throwaway trial portal, never on a real deployment. For such a trial, set "
                "the environment variable PORTAL_DEMO_MODE=1 and run seed_demo again."
            )
        # Two parts, each loaded once: the contracts, and the cases for the review
        # queue (added on their own to demo data loaded before they existed).
        if Contract.objects.filter(description__startswith=DEMO_MARKER).exists():
            self.stdout.write("Demo data already loaded.")
        else:
            with transaction.atomic():
                self._contracts(**self._users())
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        if Contract.objects.filter(description__startswith=DEMO_MARKER, freelancer__username="gary").exists():
            self.stdout.write("Demo review cases already loaded.")
        else:
            known = set(Flag.objects.values_list("pk", flat=True))
            with transaction.atomic():
                self._review_cases(**self._users())
            raised = Flag.objects.exclude(pk__in=known).select_related("subject").order_by("pk")
            self.stdout.write(
                self.style.SUCCESS(f"Demo review cases loaded; the detectors raised {len(raised)} flags:")
            )
            for flag in raised:
                self.stdout.write(f"  #{flag.pk} {flag.rule} ({flag.subject}): {flag.explanation}")
        if Offer.objects.filter(client__username="clara", title=DEMO_OFFER).exists():
            self.stdout.write("Demo offers already loaded.")
        else:
            with transaction.atomic():
                self._offers(**self._users())
            self.stdout.write(self.style.SUCCESS("Demo offers loaded."))
        self._print_flags()
        self._print_logins()

    def _print_flags(self):
        counts = {rule: Flag.objects.filter(rule=rule).count() for rule in FlagRule.values}
        summary = ", ".join(f"{rule} {count}" for rule, count in counts.items())
        disputed = EscrowRefundRequest.objects.filter(state=RefundRequestState.DISPUTED).count()
        self.stdout.write(f"Review queue (/review/): flags by rule: {summary}; disputed refund requests: {disputed}")

    def _print_logins(self):
        names = ", ".join(user["username"] for user in DEMO_USERS)
        self.stdout.write(f"Demo logins ({names}), password: {DEMO_PASSWORD}")

    def _users(self):
        User = get_user_model()
        users = {}
        for demo in DEMO_USERS:
            first, _, last = demo["name"].partition(" ")
            user, _ = User.objects.get_or_create(
                username=demo["username"],
                defaults={"first_name": first, "last_name": last, "email": f"{demo['username']}@example.com"},
            )
            if demo["username"] == "admin":
                user.is_staff = user.is_superuser = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            mark_email_verified(user)
            if demo["username"] == "admin":
                # A superuser has every permission; the reviewer's is given as well, so
                # the demo admin stays a reviewer if the superuser flag is taken away.
                user.user_permissions.add(
                    Permission.objects.get(codename="review_flags", content_type__app_label="contracts")
                )
            users[demo["username"]] = user
        return users

    def _hourly(self, client, freelancer, title, *, days_ago, rate=6000, limit=30, notice=0):
        return services.contract_create(
            client=client,
            freelancer=freelancer,
            kind=ContractKind.HOURLY,
            title=title,
            description=f"{DEMO_MARKER} {title}",
            hourly_rate_cents=rate,
            weekly_hour_limit=limit,
            notice_days=notice,
            started_at=timezone.now() - timedelta(days=days_ago),
        )

    def _fixed(self, client, freelancer, title, milestones, *, days_ago):
        return services.contract_create(
            client=client,
            freelancer=freelancer,
            kind=ContractKind.FIXED,
            title=title,
            description=f"{DEMO_MARKER} {title}",
            milestones=milestones,
            started_at=timezone.now() - timedelta(days=days_ago),
        )

    def _log_past_week(self, contract, weeks_ago: int, minutes_a_day=(180, 240, 120)):
        """Time of an earlier week, written directly (its edit window is over) and invoiced."""
        today = timezone.now().date()
        monday = today - timedelta(days=today.weekday() + 7 * weeks_ago)
        for offset, minutes in enumerate(minutes_a_day):
            DiaryEntry.objects.create(
                contract=contract,
                work_date=monday + timedelta(days=offset),
                minutes=minutes,
                memo=f"Week of {monday:%b %d}: sprint work, day {offset + 1}",
            )
        invoiced_at = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=12
        )
        with as_of(invoiced_at):
            invoice_unbilled_time(contract=contract, key=f"demo:{contract.pk}:week:{monday}", at=invoiced_at)

    def _log_this_week(self, contract, entries):
        today = timezone.now().date()
        for days_back, minutes, memo in entries:
            work_date = max(today - timedelta(days=days_back), today - timedelta(days=today.weekday()))
            services.diary_entry_add(
                contract=contract, by=contract.freelancer, work_date=work_date, minutes=minutes, memo=memo
            )

    def _contracts(self, clara, felix, fiona, admin, **others):
        now = timezone.now()

        api = self._hourly(clara, felix, "Backend API development", days_ago=230)
        for weeks_ago in (30, 27, 12, 3):
            self._log_past_week(api, weeks_ago)
        self._log_this_week(api, [(0, 150, "Pagination for the orders endpoint"), (1, 210, "Auth token refresh")])
        recent = Payment.objects.filter(contract=api).order_by("-paid_at").first()
        refund_create(
            payment=recent,
            by=felix,
            amount_cents=3000,
            idempotency_key="demo-refund-api",
            reason="Half an hour logged twice by mistake",
        )

        pipeline = self._hourly(clara, fiona, "Data pipeline maintenance", days_ago=60, rate=5500, limit=20)
        self._log_past_week(pipeline, 2, (120, 90))
        self._log_this_week(pipeline, [(0, 90, "Fixed the nightly import")])
        services.contract_pause(contract=pipeline, by=clara, reason="Waiting for the new data source")
        services.contract_propose_end(contract=pipeline, by=clara, note="The new source replaces this pipeline")

        qa = self._hourly(clara, felix, "Mobile app QA", days_ago=45, rate=4000, notice=7)
        self._log_this_week(qa, [(0, 120, "Regression run on Android 16")])
        services.contract_give_notice(contract=qa, by=felix, reason="completed", note="Test plan delivered")

        migration = self._hourly(clara, felix, "Website migration", days_ago=90, rate=7000)
        self._log_past_week(migration, 4)
        with as_of(now - timedelta(days=20)):
            DiaryEntry.objects.create(
                contract=migration, work_date=(now - timedelta(days=20)).date(), minutes=200, memo="DNS cut-over"
            )
            services.contract_end(contract=migration, by=clara, reason="completed", note="Migrated without downtime")
        with as_of(now - timedelta(days=18)):
            services.feedback_submit(
                contract=migration,
                by=clara,
                public_comment="Careful, fast and clear about every step.",
                scores={
                    "skills": 5,
                    "quality": 5,
                    "availability": 4,
                    "deadlines": 5,
                    "communication": 5,
                    "cooperation": 5,
                },
                private_reason="completed",
                private_recommend=10,
            )
        with as_of(now - timedelta(days=17)):
            services.feedback_submit(
                contract=migration,
                by=felix,
                public_comment="Quick decisions and prompt payment.",
                scores={"clarity": 4, "communication": 5, "payment_promptness": 5, "cooperation": 5, "availability": 4},
                private_reason="completed",
                private_recommend=9,
            )

        brand = self._fixed(
            clara,
            fiona,
            "Logo and brand kit",
            [("Logo concepts", 400_00), ("Final logo files", 600_00), ("Brand guide", 500_00)],
            days_ago=50,
        )
        logo, final, guide = brand.milestones.order_by("position")
        with as_of(now - timedelta(days=40)):
            services.milestone_fund(milestone=logo, by=clara)
            services.milestone_submit(milestone=logo, by=fiona, note="Three concepts attached")
            services.milestone_release(milestone=logo, by=clara)
        services.milestone_fund(milestone=final, by=clara)
        services.milestone_submit(milestone=final, by=fiona, note="SVG, PNG and PDF files")

        site = self._fixed(
            clara,
            felix,
            "Marketing site build",
            [("Design mock-ups", 800_00), ("Build and launch", 1_500_00)],
            days_ago=20,
        )
        mockups, build = site.milestones.order_by("position")
        services.milestone_fund(milestone=mockups, by=clara)
        services.milestone_fund(milestone=build, by=clara)

        art = self._fixed(clara, fiona, "Blog illustrations", [("Ten illustrations", 300_00)], days_ago=15)
        (illustrations,) = art.milestones.all()
        services.milestone_fund(milestone=illustrations, by=clara)
        services.milestone_submit(milestone=illustrations, by=fiona, note="Ten illustrations, PNG")
        services.contract_end(
            contract=art,
            by=clara,
            reason="unsuccessful",
            message_to_freelancer="Only four of the ten match the brief",
            milestone_decisions={illustrations.pk: MilestoneDecision(MilestoneChoice.PAY_PART, 120_00)},
        )
        services.feedback_submit(
            contract=art,
            by=fiona,
            public_comment="Friendly client; the brief changed late.",
            scores={"clarity": 3, "communication": 4, "payment_promptness": 4, "cooperation": 4, "availability": 4},
            private_reason="unsuccessful",
            private_recommend=6,
        )

    def _offer(
        self, client, to, title, description, *, milestones=(), rate=None, limit=None, notice=0, sent_days_ago=0
    ):
        """An offer from ``client``, sent ``sent_days_ago`` days ago (expiring 7 days after that)."""
        sent_at = timezone.now() - timedelta(days=sent_days_ago)
        with as_of(sent_at):
            return offer_services.offer_send(
                client=client,
                to=to.username,
                title=title,
                description=description,
                kind=ContractKind.FIXED if milestones else ContractKind.HOURLY,
                start_date=timezone.localdate(sent_at),
                hourly_rate_cents=rate,
                weekly_hour_limit=limit,
                notice_days=notice,
                milestones=milestones,
            )

    def _offers(self, clara, felix, fiona, **others):
        """Offers in every state an offer waits in or ends in: two waiting for an
        answer (one of them Felix's, with what its terms mean at the end), one
        declined with a reason, one expired unanswered, one accepted."""
        self._offer(
            clara,
            felix,
            DEMO_OFFER,
            "Redesign the shop's iOS and Android app: wireframes of the twelve main screens first, then the "
            "visual design in our brand colours, handed over in Figma.",
            milestones=[("Wireframes", 600_00), ("Visual design", 900_00)],
            notice=7,
            sent_days_ago=1,
        )
        self._offer(
            clara,
            fiona,
            "Support retainer",
            "Answer customer questions about our design templates, up to ten hours a week.",
            rate=4500,
            limit=10,
            sent_days_ago=2,
        )
        podcast = self._offer(
            clara,
            fiona,
            "Podcast editing",
            "Edit ten episodes of our podcast: cut, level and add the intro.",
            milestones=[("Ten episodes", 350_00)],
            sent_days_ago=3,
        )
        with as_of(timezone.now() - timedelta(days=2)):
            offer_services.offer_decline(
                offer=podcast, by=fiona, reason="Audio is outside what I do; I am glad to help with artwork."
            )
        dashboard = self._offer(
            clara,
            felix,
            "Analytics dashboard",
            "Build a dashboard of weekly sales from our shop's database.",
            rate=7000,
            limit=15,
            sent_days_ago=9,
        )
        with as_of(dashboard.expires_at):
            offer_services.offer_expire(offer_id=dashboard.pk)
        onboarding = self._offer(
            clara,
            felix,
            "Onboarding e-mails",
            "Write the five e-mails new customers receive in their first two weeks, then A/B variants of each.",
            milestones=[("Five e-mails", 250_00), ("A/B variants", 150_00)],
        )
        offer_services.offer_accept(offer=onboarding, by=felix)

    def _review_cases(self, clara, fiona, gary, admin, **others):
        """What a reviewer finds in the queue, raised by the detectors themselves."""
        now = timezone.now()

        # Ended two days after it started, escrow back to the client, nothing paid, and
        # an end note moving the talk to WhatsApp: a quick end and off-platform contact.
        landing = self._fixed(clara, gary, "Landing page redesign", [("Design and build", 450_00)], days_ago=2)
        with as_of(now - timedelta(days=2) + timedelta(hours=1)):
            services.milestone_fund(milestone=landing.milestones.get(), by=clara)
        services.contract_end(
            contract=landing, by=gary, reason="other", note="Let's continue on WhatsApp, I'll send my number"
        )
        # Gary's feedback on it asks to be paid on PayPal next time: off-platform contact.
        services.feedback_submit(
            contract=landing,
            by=gary,
            public_comment="Easy to work with. Next time just send it on PayPal, it saves us both.",
            scores={"clarity": 5, "communication": 5, "payment_promptness": 5, "cooperation": 5, "availability": 5},
            private_reason="other",
            private_recommend=8,
        )

        # The same pair does it again the next day: a repeated quick end.
        newsletter = self._fixed(clara, gary, "Newsletter template", [("Template and setup", 300_00)], days_ago=1)
        with as_of(now - timedelta(days=1) + timedelta(hours=1)):
            services.milestone_fund(milestone=newsletter.milestones.get(), by=clara)
        services.contract_end(contract=newsletter, by=gary, reason="other", note="We agreed to stop here")

        # Paid two days ago, then 90% refunded by the freelancer: a quick large refund.
        photos = self._fixed(clara, gary, "Product photo retouching", [("Forty photos", 200_00)], days_ago=10)
        (retouching,) = photos.milestones.all()
        with as_of(now - timedelta(days=9)):
            services.milestone_fund(milestone=retouching, by=clara)
        with as_of(now - timedelta(days=3)):
            services.milestone_submit(milestone=retouching, by=gary, note="Forty photos, retouched")
        with as_of(now - timedelta(days=2)):
            payment = services.milestone_release(milestone=retouching, by=clara)
        refund_create(
            payment=payment,
            by=gary,
            amount_cents=180_00,
            idempotency_key="demo-refund-photos",
            reason="Settled the rest between us",
        )

        # Still open with money in escrow: what a suspension ends and returns to Clara.
        banners = self._fixed(
            clara, gary, "Social media banners", [("Six banners", 250_00), ("Animated versions", 150_00)], days_ago=20
        )
        with as_of(now - timedelta(days=19)):
            services.milestone_fund(milestone=banners.milestones.order_by("pk").first(), by=clara)

        # Fiona disputes the refund Clara asked for on the blog illustrations: an
        # admin decides the split.
        request = EscrowRefundRequest.objects.filter(
            contract__description=f"{DEMO_MARKER} Blog illustrations", state=RefundRequestState.OPEN
        ).first()
        if request is not None and request.refusal("dispute", fiona) is None:
            services.refund_request_dispute(
                request=request,
                by=fiona,
                statement="All ten illustrations follow the brief as it was agreed; it changed after delivery.",
            )
