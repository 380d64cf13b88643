from django.contrib import admin

from devices.models import (
    Concentrator,
    Meter,
    MeterModel,
    PollRound,
    Reading,
    RegisterMapEntry,
)


class RegisterMapEntryInline(admin.TabularInline):
    model = RegisterMapEntry
    extra = 0


@admin.register(MeterModel)
class MeterModelAdmin(admin.ModelAdmin):
    list_display = ["code", "manufacturer", "name", "phases"]
    inlines = [RegisterMapEntryInline]


@admin.register(Concentrator)
class ConcentratorAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "host",
        "port",
        "poll_interval",
        "enabled",
        "last_poll_at",
        "last_poll_status",
    ]
    list_filter = ["enabled", "last_poll_status"]
    readonly_fields = [
        "last_poll_at",
        "last_poll_status",
        "last_poll_error",
        "poll_claimed_until",
    ]


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ["serial", "model", "concentrator", "unit_id", "account", "ct_ratio"]
    list_filter = ["model", "concentrator"]
    search_fields = ["serial", "account__number"]
    raw_id_fields = ["account"]


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ["meter", "quantity", "value", "read_at", "source", "quality"]
    list_filter = ["quantity", "source", "quality"]
    search_fields = ["meter__serial"]
    date_hierarchy = "read_at"
    raw_id_fields = ["meter"]

    def has_change_permission(self, request, obj=None):
        # A stored reading is evidence for a bill: corrections are new rows.
        return False


@admin.register(PollRound)
class PollRoundAdmin(admin.ModelAdmin):
    list_display = [
        "concentrator",
        "started_at",
        "status",
        "meters_due",
        "meters_read",
        "readings_stored",
    ]
    list_filter = ["status", "concentrator"]
