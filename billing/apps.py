from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from meterops.roles import ensure_roles

        # Runs after billing's migrations, when its custom permission exists.
        post_migrate.connect(ensure_roles, sender=self)
