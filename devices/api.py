"""REST API for readings: head-end systems push readings and read them back."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from devices.models import Meter, Quantity, Reading
from meterops.api_params import BoundedDateTimeField, parse_since, query_text
from meterops.roles import is_office_user


class ReadingSerializer(serializers.ModelSerializer):
    meter = serializers.SlugRelatedField(
        slug_field="serial", queryset=Meter.objects.all()
    )
    read_at = BoundedDateTimeField()
    source = serializers.ChoiceField(
        choices=[Reading.Source.MANUAL, Reading.Source.IMPORT],
        default=Reading.Source.IMPORT,
    )

    class Meta:
        model = Reading
        fields = ["id", "meter", "quantity", "value", "read_at", "source", "quality"]
        read_only_fields = ["id", "quality"]
        # The unique key is checked in create(), which separates a repeat from a
        # conflict instead of failing both alike.
        validators = []

    def validate_read_at(self, value):
        if value > timezone.now():
            raise serializers.ValidationError(
                _("Reading time %(value)s is in the future; send the time it was read.")
                % {"value": value.isoformat()}
            )
        return value

    def validate(self, attrs):
        if attrs["quantity"] in Quantity.cumulative() and attrs["value"] < 0:
            raise serializers.ValidationError(
                {
                    "value": _(
                        "Energy register value %(value)s is negative; registers "
                        "count up from zero."
                    )
                    % {"value": attrs["value"]}
                }
            )
        return attrs


class ReadingConflict(Exception):
    def __init__(self, existing: Reading, value):
        super().__init__()
        self.existing = existing
        self.value = value


class ReadingViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """List readings (filter by `meter` serial, `quantity`, `since`) or push one.

    Pushing a reading that is already stored with the same value returns it
    with 200; a different value for the same meter, quantity and time is
    rejected with 409 and the stored value, because a reading is never
    overwritten.
    """

    serializer_class = ReadingSerializer

    def get_queryset(self):
        if not is_office_user(self.request.user):
            raise PermissionDenied(_("Readings are available to office users only."))
        readings = Reading.objects.select_related("meter").order_by("-read_at")
        meter = query_text(self.request, "meter")
        if meter:
            readings = readings.filter(meter__serial=meter)
        quantity = query_text(self.request, "quantity")
        if quantity:
            readings = readings.filter(quantity=quantity)
        since = parse_since(self.request)
        if since is not None:
            readings = readings.filter(read_at__gte=since)
        return readings

    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("devices.add_reading"):
            raise PermissionDenied(_("You may not add readings."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existing = Reading.objects.filter(
            meter=data["meter"], quantity=data["quantity"], read_at=data["read_at"]
        ).first()
        if existing is None:
            try:
                with transaction.atomic():
                    reading = serializer.save()
            except IntegrityError:
                existing = Reading.objects.get(
                    meter=data["meter"],
                    quantity=data["quantity"],
                    read_at=data["read_at"],
                )
            else:
                return Response(
                    self.get_serializer(reading).data, status=status.HTTP_201_CREATED
                )
        if existing.value == data["value"]:
            return Response(
                self.get_serializer(existing).data, status=status.HTTP_200_OK
            )
        return Response(
            {
                "detail": _(
                    "Meter %(serial)s already has %(quantity)s = %(stored)s at "
                    "%(time)s; the value %(value)s was not stored, because a "
                    "stored reading is never overwritten."
                )
                % {
                    "serial": existing.meter.serial,
                    "quantity": existing.quantity,
                    "stored": existing.value,
                    "time": existing.read_at.isoformat(),
                    "value": data["value"],
                },
                "stored": self.get_serializer(existing).data,
            },
            status=status.HTTP_409_CONFLICT,
        )
