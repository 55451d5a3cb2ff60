from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Offers"

    def ready(self) -> None:
        # What an offer's transitions do (their e-mails, the expiry job and its handler)
        # is registered with the contracts' machinery when the services load; load them
        # here so that a worker running only jobs knows them too.
        from allauth.account.signals import email_confirmed, user_signed_up

        from . import receivers, services  # noqa: F401

        email_confirmed.connect(receivers.address_verified, dispatch_uid="offers.address_verified")
        user_signed_up.connect(receivers.signed_up, dispatch_uid="offers.signed_up")
