from django.contrib import admin

from customers.models import Account, BillingCycle, Customer, Premise, TransformerArea


@admin.register(TransformerArea)
class TransformerAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "capacity_kva"]
    search_fields = ["code", "name"]


@admin.register(BillingCycle)
class BillingCycleAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "category", "phone", "user"]
    list_filter = ["category"]
    search_fields = ["number", "name", "phone"]
    raw_id_fields = ["user"]


@admin.register(Premise)
class PremiseAdmin(admin.ModelAdmin):
    list_display = ["address", "transformer_area"]
    search_fields = ["address"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "tariff", "cycle", "status", "opened_on"]
    list_filter = ["status", "tariff", "cycle", "load_class"]
    search_fields = ["number", "customer__name", "customer__number"]
    raw_id_fields = ["customer", "premise"]
