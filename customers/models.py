"""Customers, their accounts (户号), premises and transformer areas (台区)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TransformerArea(models.Model):
    """Customers fed by one distribution transformer (台区)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    capacity_kva = models.PositiveIntegerField(
        _("capacity (kVA)"), null=True, blank=True
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("transformer area")
        verbose_name_plural = _("transformer areas")

    def __str__(self):
        return f"{self.code} {self.name}"


class BillingCycle(models.Model):
    """A group of accounts read and billed together (抄表段)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("billing cycle group")
        verbose_name_plural = _("billing cycle groups")

    def __str__(self):
        return self.name


class Customer(models.Model):
    """A person or organisation that buys electricity (用电客户)."""

    class Category(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        INDUSTRIAL = "industrial", _("Industrial")

    number = models.CharField(_("customer number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        verbose_name=_("portal login"),
        help_text=_("The user account this customer signs in to the portal with."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.number} {self.name}"


class Premise(models.Model):
    """A supplied address (用电地址), fed from one transformer area."""

    address = models.CharField(_("address"), max_length=300)
    transformer_area = models.ForeignKey(
        TransformerArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="premises",
        verbose_name=_("transformer area"),
    )

    class Meta:
        ordering = ["address"]
        verbose_name = _("premise")
        verbose_name_plural = _("premises")

    def __str__(self):
        return self.address


class Account(models.Model):
    """A billing account (户号): one customer at one premise on one tariff.

    A change of occupant opens a new account, so usage that counts toward
    annual tiers never passes from one occupant to the next.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    class LoadClass(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        COMMERCIAL = "commercial", _("Commercial")

    number = models.CharField(_("account number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("customer"),
    )
    premise = models.ForeignKey(
        Premise,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("premise"),
    )
    tariff = models.ForeignKey(
        "billing.Tariff",
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("tariff"),
    )
    cycle = models.ForeignKey(
        BillingCycle,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("billing cycle group"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    load_class = models.CharField(
        _("load class"),
        max_length=20,
        choices=LoadClass.choices,
        default=LoadClass.HOUSEHOLD,
        help_text=_("The standard load profile that best describes this account."),
    )
    estimated_annual_kwh = models.DecimalField(
        _("estimated annual consumption (kWh)"),
        max_digits=12,
        decimal_places=0,
        default=0,
        help_text=_("Used to estimate missing readings and to scale load profiles."),
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self):
        return f"{self.number} {self.customer.name}"
