from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts"

    def ready(self) -> None:
        from contracts_portal.db_roles import grant_after_migrate

        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="contracts_portal.grant_runtime_role")
