from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.portal, name="portal"),
    path("bills/<int:bill_id>/pdf/", views.bill_pdf, name="bill_pdf"),
]
