from django.contrib import admin
from django.urls import include, path

from meterops import views
from meterops.api import router

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("devices/", include("devices.urls")),
    path("billing/", include("billing.urls")),
    path("portal/", include("customers.urls")),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
]
