"""Tariffs and their versions, bill runs, bills, bill lines and approvals."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY_DIGITS = 14
MONEY_PLACES = 2
PRICE_DIGITS = 12
PRICE_PLACES = 6
ENERGY_DIGITS = 16
ENERGY_PLACES = 4


class Tariff(models.Model):
    """A published tariff (电价), priced by its effective-dated versions."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")

    def __str__(self):
        return self.name

    def version_on(self, day):
        """Return the version in force on `day`, or None."""
        return (
            self.versions.filter(effective_from__lte=day)
            .filter(
                models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=day)
            )
            .order_by("-effective_from")
            .first()
        )


class TariffVersion(models.Model):
    """The prices of a tariff from one date up to the next version.

    `effective_to` is exclusive. With no blocks the flat `energy_price`
    applies to every kWh; with blocks each block's price applies to the kWh
    that fall inside it.
    """

    class BlockBasis(models.TextChoices):
        NONE = "none", _("No blocks: flat energy price")
        MONTHLY = "monthly", _("Monthly blocks")

    tariff = models.ForeignKey(
        Tariff,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("tariff"),
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to"),
        null=True,
        blank=True,
        help_text=_(
            "First day on which this version no longer applies; empty if open."
        ),
    )
    energy_price = models.DecimalField(
        _("energy price (yuan/kWh)"),
        max_digits=PRICE_DIGITS,
        decimal_places=PRICE_PLACES,
        validators=[MinValueValidator(Decimal(0))],
    )
    block_basis = models.CharField(
        _("block basis"),
        max_length=10,
        choices=BlockBasis.choices,
        default=BlockBasis.NONE,
    )
    published_reference = models.CharField(
        _("published reference"),
        max_length=200,
        blank=True,
        help_text=_("The price notice this version comes from."),
    )

    class Meta:
        ordering = ["tariff", "-effective_from"]
        verbose_name = _("tariff version")
        verbose_name_plural = _("tariff versions")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "effective_from"], name="tariff_version_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gt=models.F("effective_from")),
                name="tariff_version_positive_span",
            ),
        ]

    def __str__(self):
        return _("%(tariff)s from %(day)s") % {
            "tariff": self.tariff.name,
            "day": self.effective_from,
        }

    def clean(self):
        overlapping = TariffVersion.objects.filter(tariff_id=self.tariff_id).exclude(
            pk=self.pk
        )
        if self.effective_to is not None:
            overlapping = overlapping.filter(effective_from__lt=self.effective_to)
        overlapping = overlapping.filter(
            models.Q(effective_to__isnull=True)
            | models.Q(effective_to__gt=self.effective_from)
        )
        if overlapping.exists():
            raise ValidationError(
                _(
                    "This version overlaps the version from %(start)s. End that "
                    "version before %(new_start)s or change the dates."
                ),
                params={
                    "start": overlapping.first().effective_from,
                    "new_start": self.effective_from,
                },
            )


class TariffBlock(models.Model):
    """One block of a tiered tariff version: the kWh up to `upper_kwh` at `price`."""

    version = models.ForeignKey(
        TariffVersion,
        on_delete=models.CASCADE,
        related_name="blocks",
        verbose_name=_("tariff version"),
    )
    upper_kwh = models.DecimalField(
        _("upper bound (kWh)"),
        max_digits=ENERGY_DIGITS,
        decimal_places=ENERGY_PLACES,
        null=True,
        blank=True,
        help_text=_(
            "Cumulative kWh in the month where this block ends; empty for the last."
        ),
    )
    price = models.DecimalField(
        _("price (yuan/kWh)"),
        max_digits=PRICE_DIGITS,
        decimal_places=PRICE_PLACES,
        validators=[MinValueValidator(Decimal(0))],
    )

    class Meta:
        ordering = ["version", models.F("upper_kwh").asc(nulls_last=True)]
        verbose_name = _("tariff block")
        verbose_name_plural = _("tariff blocks")

    def __str__(self):
        return f"≤ {self.upper_kwh} kWh @ {self.price}"


class TariffSurcharge(models.Model):
    """A government fund or surcharge per kWh (政府性基金及附加), itemised."""

    version = models.ForeignKey(
        TariffVersion,
        on_delete=models.CASCADE,
        related_name="surcharges",
        verbose_name=_("tariff version"),
    )
    name = models.CharField(_("name"), max_length=100)
    price = models.DecimalField(
        _("price (yuan/kWh)"),
        max_digits=PRICE_DIGITS,
        decimal_places=PRICE_PLACES,
        validators=[MinValueValidator(Decimal(0))],
    )

    class Meta:
        ordering = ["version", "name"]
        verbose_name = _("surcharge")
        verbose_name_plural = _("surcharges")

    def __str__(self):
        return f"{self.name} {self.price}"


class BillRun(models.Model):
    """The calculation of all bills of one period (电费计算), with its progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    period = models.DateField(
        _("period"), help_text=_("First day of the billed month.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bill_runs",
        verbose_name=_("started by"),
        help_text=_("Empty when the run was started by the scheduler or a command."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    accounts_total = models.PositiveIntegerField(_("accounts"), default=0)
    accounts_done = models.PositiveIntegerField(_("accounts done"), default=0)
    bills_created = models.PositiveIntegerField(_("bills created"), default=0)
    bills_held = models.PositiveIntegerField(_("bills held"), default=0)
    accounts_skipped = models.PositiveIntegerField(_("accounts skipped"), default=0)
    problems = models.JSONField(
        _("problems"),
        default=list,
        blank=True,
        help_text=_("Accounts that could not be billed, with the reason."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    heartbeat_at = models.DateTimeField(
        _("heartbeat at"),
        null=True,
        blank=True,
        help_text=_(
            "Last sign of life of the worker running it; a running run whose "
            "heartbeat is old may be taken over."
        ),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")

    def __str__(self):
        return f"{self.period:%Y-%m} ({self.get_status_display()})"

    @property
    def accounts_already_billed(self) -> int:
        """Return the accounts that had a bill for the period before this run."""
        return max(self.accounts_done - self.bills_created - self.accounts_skipped, 0)

    @property
    def progress_percent(self) -> int:
        if not self.accounts_total:
            return 100 if self.status == self.Status.SUCCEEDED else 0
        return round(100 * self.accounts_done / self.accounts_total)


class Bill(models.Model):
    """One account's bill for one period, with the readings it was rated from."""

    class Status(models.TextChoices):
        HELD = "held", _("Held for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class HoldReason(models.TextChoices):
        ZERO = "zero", _("Zero consumption")
        NEGATIVE = "negative", _("Negative consumption")
        HIGH = "high", _("More than three times the account's usual use")
        ROLLOVER = "rollover", _("Register rolled over")

    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("account"),
    )
    bill_run = models.ForeignKey(
        BillRun,
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("bill run"),
    )
    tariff_version = models.ForeignKey(
        TariffVersion,
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("tariff version"),
    )
    meter = models.ForeignKey(
        "devices.Meter",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("meter"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(
        _("period end"), help_text=_("Last day of the period.")
    )
    service_from = models.DateField(
        _("billed from"),
        null=True,
        blank=True,
        help_text=_("First day billed: later than the period start for a new account."),
    )
    service_to = models.DateField(
        _("billed to"),
        null=True,
        blank=True,
        help_text=_(
            "Last day billed: earlier than the period end for a closed account."
        ),
    )
    start_reading = models.DecimalField(
        _("start reading"), max_digits=ENERGY_DIGITS, decimal_places=ENERGY_PLACES
    )
    start_read_at = models.DateTimeField(_("start reading taken at"))
    end_reading = models.DecimalField(
        _("end reading"), max_digits=ENERGY_DIGITS, decimal_places=ENERGY_PLACES
    )
    end_read_at = models.DateTimeField(_("end reading taken at"))
    multiplier = models.DecimalField(_("multiplier"), max_digits=12, decimal_places=4)
    consumption_kwh = models.DecimalField(
        _("consumption (kWh)"), max_digits=ENERGY_DIGITS, decimal_places=ENERGY_PLACES
    )
    average_kwh = models.DecimalField(
        _("average consumption (kWh)"),
        max_digits=ENERGY_DIGITS,
        decimal_places=ENERGY_PLACES,
        null=True,
        blank=True,
        help_text=_(
            "The account's usual consumption over this bill's days, from the "
            "daily mean of its earlier bills, when it has any."
        ),
    )
    total = models.DecimalField(
        _("total (yuan)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    hold_reasons = models.JSONField(_("hold reasons"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "account"]
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            # A rejected bill stays as the record of the rejection; the next
            # run of the period may then bill the account again.
            models.UniqueConstraint(
                fields=["account", "period_start"],
                condition=~models.Q(status="rejected"),
                name="bill_unique_account_period",
            )
        ]
        permissions = [("approve_bill", _("Can approve or reject held bills"))]

    def __str__(self):
        return f"{self.account.number} {self.period_start:%Y-%m}"

    @property
    def billed_from(self):
        """Return the first day billed, after the period start for a new account."""
        return self.service_from or self.period_start

    @property
    def billed_to(self):
        """Return the last day billed, before the period end for a closed account."""
        return self.service_to or self.period_end

    def hold_reason_labels(self):
        return [self.HoldReason(code).label for code in self.hold_reasons]


class BillLine(models.Model):
    """One charge on a bill: quantity × unit price = amount."""

    class Kind(models.TextChoices):
        ENERGY = "energy", _("Energy charge")
        SURCHARGE = "surcharge", _("Surcharge")

    bill = models.ForeignKey(
        Bill, on_delete=models.CASCADE, related_name="lines", verbose_name=_("bill")
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=200)
    quantity_kwh = models.DecimalField(
        _("quantity (kWh)"), max_digits=ENERGY_DIGITS, decimal_places=ENERGY_PLACES
    )
    unit_price = models.DecimalField(
        _("unit price (yuan/kWh)"), max_digits=PRICE_DIGITS, decimal_places=PRICE_PLACES
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES
    )

    class Meta:
        ordering = ["bill", "sequence"]
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        constraints = [
            models.UniqueConstraint(
                fields=["bill", "sequence"], name="bill_line_unique_sequence"
            )
        ]

    def __str__(self):
        return f"{self.description} {self.amount}"


class BillApproval(models.Model):
    """A supervisor's decision on a held bill, kept as the audit record."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    bill = models.ForeignKey(
        Bill, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("bill")
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bill_decisions",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("bill approval")
        verbose_name_plural = _("bill approvals")

    def __str__(self):
        return f"{self.bill} {self.decision} by {self.decided_by}"
