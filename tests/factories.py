import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contracts.models import Contract, ContractKind, DiaryEntry, Milestone

PASSWORD = "correct-horse-battery"  # every factory-made user's


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.django.Password(PASSWORD)


class HourlyContractFactory(factory.django.DjangoModelFactory):
    """An active hourly contract: $50.00 an hour, 40 hours a week, no notice period."""

    class Meta:
        model = Contract

    title = factory.Sequence(lambda n: f"Hourly contract {n}")
    client = factory.SubFactory(UserFactory)
    freelancer = factory.SubFactory(UserFactory)
    kind = ContractKind.HOURLY
    hourly_rate_cents = 5000
    weekly_hour_limit = 40
    notice_days = 0
    started_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=30))


class FixedContractFactory(HourlyContractFactory):
    title = factory.Sequence(lambda n: f"Fixed-price contract {n}")
    kind = ContractKind.FIXED
    hourly_rate_cents = None
    weekly_hour_limit = None


class MilestoneFactory(factory.django.DjangoModelFactory):
    """A milestone as it is agreed: not yet funded (use the services to fund it)."""

    class Meta:
        model = Milestone

    contract = factory.SubFactory(FixedContractFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    amount_cents = 100_00
    position = factory.Sequence(lambda n: n + 1)


class DiaryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiaryEntry

    contract = factory.SubFactory(HourlyContractFactory)
    work_date = factory.LazyFunction(lambda: timezone.now().date())
    minutes = 120
    memo = "Implemented the feature"
