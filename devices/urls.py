from django.urls import path

from devices import views

app_name = "devices"

urlpatterns = [
    path("readings/", views.readings, name="readings"),
    path("meters/<str:serial>/", views.meter_detail, name="meter_detail"),
]
