"""Checks shared by the REST API's views: query parameters and date-times."""

import datetime

from django.utils.translation import gettext as _
from rest_framework import serializers


def query_text(request, name: str) -> str:
    """Return a query parameter's text, or raise 400 for one PostgreSQL cannot hold."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise serializers.ValidationError(
            {name: _("The value contains a NUL character; remove it.")}
        )
    return value


class BoundedDateTimeField(serializers.DateTimeField):
    """A date-time from 2000 to 2099, rejected with 400 outside it."""

    def to_internal_value(self, value):
        try:
            parsed = super().to_internal_value(value)
        except (OverflowError, ValueError):
            parsed = None
        low = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        high = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
        if parsed is None or not low <= parsed < high:
            raise serializers.ValidationError(
                _(
                    "%(value)s is not a time between 2000 and 2099; send an ISO "
                    "8601 time with its offset, e.g. 2026-12-01T00:00:00+08:00."
                )
                % {"value": value}
            )
        return parsed


def parse_since(request):
    """Return the `since` parameter as an aware datetime, or None if absent."""
    text = query_text(request, "since")
    if not text:
        return None
    try:
        return BoundedDateTimeField().to_internal_value(text)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"since": error.detail}) from error
