from django.db import models

from contracts_portal.errors import DomainError


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise DomainError(f"{self.model._meta.verbose_name_plural.capitalize()} cannot be changed once written.")

    def delete(self):
        raise DomainError(f"{self.model._meta.verbose_name_plural.capitalize()} cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise DomainError(f"{self.model._meta.verbose_name_plural.capitalize()} cannot be changed once written.")


class AppendOnlyModel(models.Model):
    """Rows written once and never changed or deleted: records of money and of history.

    The model layer refuses it here; on PostgreSQL a trigger refuses it as well, for
    raw SQL and anything else that bypasses the ORM. A correction is a new row.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise DomainError(f"A {self._meta.verbose_name} cannot be changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DomainError(f"A {self._meta.verbose_name} cannot be deleted.")
