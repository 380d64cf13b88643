"""Concentrators, meters, meter models with their register maps, and readings."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from devices.modbus.decoding import RegisterSpec


class Quantity(models.TextChoices):
    """A measured quantity a register map can name and a reading can carry."""

    IMPORT_ACTIVE_ENERGY = "import_kwh", _("Import active energy (kWh)")
    EXPORT_ACTIVE_ENERGY = "export_kwh", _("Export active energy (kWh)")
    IMPORT_ENERGY_SHARP = "import_kwh_sharp", _("Import energy, sharp period (kWh)")
    IMPORT_ENERGY_PEAK = "import_kwh_peak", _("Import energy, peak period (kWh)")
    IMPORT_ENERGY_FLAT = "import_kwh_flat", _("Import energy, flat period (kWh)")
    IMPORT_ENERGY_VALLEY = "import_kwh_valley", _("Import energy, valley period (kWh)")
    IMPORT_REACTIVE_ENERGY = "import_kvarh", _("Import reactive energy (kvarh)")
    VOLTAGE_L1 = "voltage_l1", _("Voltage L1-N (V)")
    VOLTAGE_L2 = "voltage_l2", _("Voltage L2-N (V)")
    VOLTAGE_L3 = "voltage_l3", _("Voltage L3-N (V)")
    CURRENT_L1 = "current_l1", _("Current L1 (A)")
    CURRENT_L2 = "current_l2", _("Current L2 (A)")
    CURRENT_L3 = "current_l3", _("Current L3 (A)")
    ACTIVE_POWER = "active_power", _("Active power total (W)")
    REACTIVE_POWER = "reactive_power", _("Reactive power total (var)")
    POWER_FACTOR = "power_factor", _("Power factor total")
    FREQUENCY = "frequency", _("Frequency (Hz)")
    MAX_DEMAND = "max_demand_kw", _("Maximum demand (kW)")

    @classmethod
    def cumulative(cls):
        """Return the quantities that are cumulative registers (energy counters)."""
        return {
            cls.IMPORT_ACTIVE_ENERGY,
            cls.EXPORT_ACTIVE_ENERGY,
            cls.IMPORT_ENERGY_SHARP,
            cls.IMPORT_ENERGY_PEAK,
            cls.IMPORT_ENERGY_FLAT,
            cls.IMPORT_ENERGY_VALLEY,
            cls.IMPORT_REACTIVE_ENERGY,
        }


class MeterModel(models.Model):
    """A make and model of meter, with the register map its firmware serves.

    Scale belongs to the model variant, not the brand: the DTSU666 reports
    voltage in 0.1 V while the DTSU666-H reports volts, so each variant is its
    own MeterModel.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    phases = models.PositiveSmallIntegerField(
        _("phases"), choices=[(1, _("single-phase")), (3, _("three-phase"))]
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["manufacturer", "name"]
        verbose_name = _("meter model")
        verbose_name_plural = _("meter models")

    def __str__(self):
        return f"{self.manufacturer} {self.name}"


class RegisterMapEntry(models.Model):
    """The register layout of one quantity in a meter model's map."""

    class FunctionCode(models.IntegerChoices):
        READ_HOLDING_REGISTERS = 3, _("FC3 read holding registers")
        READ_INPUT_REGISTERS = 4, _("FC4 read input registers")

    class DataType(models.TextChoices):
        UINT16 = "uint16", "uint16"
        INT16 = "int16", "int16"
        UINT32 = "uint32", "uint32"
        INT32 = "int32", "int32"
        UINT64 = "uint64", "uint64"
        INT64 = "int64", "int64"
        FLOAT32 = "float32", "float32"
        FLOAT64 = "float64", "float64"

    class ByteOrder(models.TextChoices):
        BIG = "big", _("big-endian")
        LITTLE = "little", _("little-endian")

    meter_model = models.ForeignKey(
        MeterModel,
        on_delete=models.CASCADE,
        related_name="registers",
        verbose_name=_("meter model"),
    )
    quantity = models.CharField(_("quantity"), max_length=30, choices=Quantity.choices)
    function_code = models.PositiveSmallIntegerField(
        _("function code"),
        choices=FunctionCode.choices,
        default=FunctionCode.READ_HOLDING_REGISTERS,
    )
    address = models.PositiveIntegerField(
        _("address"),
        validators=[MaxValueValidator(0xFFFF)],
        help_text=_("0-based protocol address, as sent on the wire."),
    )
    data_type = models.CharField(
        _("data type"), max_length=10, choices=DataType.choices
    )
    word_order = models.CharField(
        _("word order"),
        max_length=6,
        choices=ByteOrder.choices,
        default=ByteOrder.BIG,
        help_text=_("Big: the first register holds the most significant word."),
    )
    byte_order = models.CharField(
        _("byte order"),
        max_length=6,
        choices=ByteOrder.choices,
        default=ByteOrder.BIG,
        help_text=_("Order of the two bytes inside each register."),
    )
    scale = models.DecimalField(
        _("scale"),
        max_digits=12,
        decimal_places=6,
        default=Decimal(1),
        help_text=_(
            "The decoded value is multiplied by this to give the quantity in its "
            "unit, for example 0.1 for a register in tenths of a volt."
        ),
    )
    decimals = models.PositiveSmallIntegerField(
        _("decimal places"),
        default=2,
        validators=[MaxValueValidator(4)],
        help_text=_("Resolution kept when the value is stored."),
    )

    class Meta:
        ordering = ["meter_model", "address"]
        verbose_name = _("register map entry")
        verbose_name_plural = _("register map entries")
        constraints = [
            models.UniqueConstraint(
                fields=["meter_model", "quantity"], name="register_unique_quantity"
            )
        ]

    def __str__(self):
        return f"{self.meter_model.code} {self.quantity} @ {self.address:#06x}"

    def to_spec(self) -> RegisterSpec:
        """Return this entry as the plain value the decoder works on."""
        return RegisterSpec(
            quantity=self.quantity,
            function_code=self.function_code,
            address=self.address,
            data_type=self.data_type,
            word_order=self.word_order,
            byte_order=self.byte_order,
            scale=self.scale,
            decimals=self.decimals,
        )


class Concentrator(models.Model):
    """A Modbus/TCP gateway (集中器) that relays requests to the meters behind it."""

    class PollStatus(models.TextChoices):
        NEVER = "never", _("Never polled")
        OK = "ok", _("OK")
        PARTIAL = "partial", _("Partly failed")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("host"), max_length=255)
    port = models.PositiveIntegerField(
        _("port"),
        default=502,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    transformer_area = models.ForeignKey(
        "customers.TransformerArea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="concentrators",
        verbose_name=_("transformer area"),
    )
    poll_interval = models.PositiveIntegerField(
        _("poll interval (seconds)"),
        default=900,
        validators=[MinValueValidator(10), MaxValueValidator(86400)],
        help_text=_("From 10 seconds to one day; slots count from local midnight."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    last_poll_at = models.DateTimeField(_("last poll at"), null=True, blank=True)
    last_poll_status = models.CharField(
        _("last poll result"),
        max_length=10,
        choices=PollStatus.choices,
        default=PollStatus.NEVER,
    )
    last_poll_error = models.TextField(_("last poll error"), blank=True)
    poll_claimed_until = models.DateTimeField(
        _("poll claimed until"),
        null=True,
        blank=True,
        help_text=_("A poll task owns this concentrator until this time."),
    )
    poll_queued_slot = models.DateTimeField(
        _("poll queued for slot"),
        null=True,
        blank=True,
        help_text=_("The latest poll slot a task was queued for."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("concentrator")
        verbose_name_plural = _("concentrators")

    def __str__(self):
        return self.name


class Meter(models.Model):
    """An installed meter, addressed by unit id behind a concentrator."""

    serial = models.CharField(_("serial number"), max_length=50, unique=True)
    model = models.ForeignKey(
        MeterModel,
        on_delete=models.PROTECT,
        related_name="meters",
        verbose_name=_("model"),
    )
    concentrator = models.ForeignKey(
        Concentrator,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meters",
        verbose_name=_("concentrator"),
    )
    unit_id = models.PositiveSmallIntegerField(
        _("unit id"), validators=[MinValueValidator(1), MaxValueValidator(247)]
    )
    account = models.ForeignKey(
        "customers.Account",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="meters",
        verbose_name=_("account"),
    )
    ct_ratio = models.DecimalField(
        _("CT ratio"),
        max_digits=8,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Current transformer ratio, for example 20 for 100/5 A."),
    )
    pt_ratio = models.DecimalField(
        _("PT ratio"),
        max_digits=8,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Voltage transformer ratio, for example 100 for 10000/100 V."),
    )
    register_digits = models.PositiveSmallIntegerField(
        _("register digits"),
        default=6,
        validators=[MinValueValidator(3), MaxValueValidator(10)],
        help_text=_(
            "Whole-number digits of the energy register; it wraps at 10^digits."
        ),
    )
    installed_at = models.DateTimeField(_("installed at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    class Meta:
        ordering = ["serial"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            models.UniqueConstraint(
                fields=["concentrator", "unit_id"],
                condition=models.Q(removed_at__isnull=True),
                name="meter_unique_unit_per_concentrator",
            )
        ]

    def __str__(self):
        return self.serial

    @property
    def multiplier(self) -> Decimal:
        """Return the CT ratio times the PT ratio (综合倍率)."""
        return self.ct_ratio * self.pt_ratio


class Reading(models.Model):
    """A register value of one meter at one instant (示数).

    A reading is never overwritten: the unique key on meter, quantity and
    time makes a repeated poll of the same instant a no-op.
    """

    class Source(models.TextChoices):
        POLL = "poll", _("Polled")
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Imported")
        ESTIMATED = "estimated", _("Estimated")

    class Quality(models.TextChoices):
        VALID = "valid", _("Valid")
        SUSPECT = "suspect", _("Suspect")
        ESTIMATED = "estimated", _("Estimated")
        EDITED = "edited", _("Edited")

    meter = models.ForeignKey(
        Meter,
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("meter"),
    )
    quantity = models.CharField(_("quantity"), max_length=30, choices=Quantity.choices)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4)
    read_at = models.DateTimeField(_("read at"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    quality = models.CharField(
        _("quality"), max_length=10, choices=Quality.choices, default=Quality.VALID
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["meter", "quantity", "read_at"]
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "quantity", "read_at"], name="reading_unique_instant"
            )
        ]
        indexes = [models.Index(fields=["read_at"], name="reading_read_at")]

    def __str__(self):
        return f"{self.meter_id} {self.quantity}={self.value} @ {self.read_at}"

    @property
    def display_value(self) -> str:
        """Return the value without the trailing zeros of the stored precision."""
        text = f"{self.value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


class PollRound(models.Model):
    """One poll of one concentrator: when it ran and what it stored."""

    concentrator = models.ForeignKey(
        Concentrator,
        on_delete=models.CASCADE,
        related_name="poll_rounds",
        verbose_name=_("concentrator"),
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Concentrator.PollStatus.choices
    )
    meters_due = models.PositiveIntegerField(_("meters due"), default=0)
    meters_read = models.PositiveIntegerField(_("meters read"), default=0)
    readings_stored = models.PositiveIntegerField(_("readings stored"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("poll round")
        verbose_name_plural = _("poll rounds")
        indexes = [models.Index(fields=["concentrator", "-started_at"])]

    def __str__(self):
        return f"{self.concentrator} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
