"""REST API for bills: office users see every bill, customers their own issued ones."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, viewsets

from billing.models import Bill, BillLine
from billing.runs import parse_period
from meterops.api_params import query_text
from meterops.roles import is_office_user


class BillLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillLine
        fields = [
            "sequence",
            "kind",
            "description",
            "quantity_kwh",
            "unit_price",
            "amount",
        ]


class BillSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number")
    meter = serializers.CharField(source="meter.serial")
    lines = BillLineSerializer(many=True)

    class Meta:
        model = Bill
        fields = [
            "id",
            "account",
            "meter",
            "period_start",
            "period_end",
            "start_reading",
            "start_read_at",
            "end_reading",
            "end_read_at",
            "multiplier",
            "consumption_kwh",
            "total",
            "status",
            "hold_reasons",
            "lines",
        ]


class BillViewSet(viewsets.ReadOnlyModelViewSet):
    """List and fetch bills; filter by `period` (YYYY-MM) and `account`."""

    serializer_class = BillSerializer

    def get_queryset(self):
        user = self.request.user
        bills = Bill.objects.select_related("account", "meter").prefetch_related(
            "lines"
        )
        if not is_office_user(user):
            bills = bills.filter(
                account__customer__user=user, status=Bill.Status.APPROVED
            )
        period = query_text(self.request, "period")
        if period:
            try:
                first_day = parse_period(period)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"period": error.messages}) from None
            bills = bills.filter(period_start=first_day)
        account = query_text(self.request, "account")
        if account:
            bills = bills.filter(account__number=account)
        return bills.order_by("-period_start", "account__number")
