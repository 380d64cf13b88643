from django.contrib import admin

from billing.models import (
    Bill,
    BillApproval,
    BillLine,
    BillRun,
    Tariff,
    TariffBlock,
    TariffSurcharge,
    TariffVersion,
)


class TariffVersionInline(admin.TabularInline):
    model = TariffVersion
    extra = 0
    show_change_link = True


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TariffVersionInline]


class TariffBlockInline(admin.TabularInline):
    model = TariffBlock
    extra = 0


class TariffSurchargeInline(admin.TabularInline):
    model = TariffSurcharge
    extra = 0


@admin.register(TariffVersion)
class TariffVersionAdmin(admin.ModelAdmin):
    list_display = ["tariff", "effective_from", "effective_to", "energy_price"]
    list_filter = ["tariff"]
    inlines = [TariffBlockInline, TariffSurchargeInline]


@admin.register(BillRun)
class BillRunAdmin(admin.ModelAdmin):
    list_display = [
        "period",
        "status",
        "started_by",
        "accounts_total",
        "bills_created",
        "bills_held",
    ]
    list_filter = ["status"]


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ["account", "period_start", "consumption_kwh", "total", "status"]
    list_filter = ["status", "period_start"]
    search_fields = ["account__number", "account__customer__name"]
    inlines = [BillLineInline]
    readonly_fields = [field.name for field in Bill._meta.fields]


@admin.register(BillApproval)
class BillApprovalAdmin(admin.ModelAdmin):
    list_display = ["bill", "decision", "decided_by", "decided_at"]

    def has_change_permission(self, request, obj=None):
        return False
