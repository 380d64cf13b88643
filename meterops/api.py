"""The REST API's router."""

from rest_framework.routers import DefaultRouter

from billing.api import BillViewSet
from devices.api import ReadingViewSet

router = DefaultRouter()
router.register("readings", ReadingViewSet, basename="reading")
router.register("bills", BillViewSet, basename="bill")
