from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("runs/", views.runs, name="runs"),
    path("runs/start/", views.start_run, name="start_run"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/row/", views.run_row, name="run_row"),
    path("review/", views.review, name="review"),
    path(
        "bills/<int:pk>/approve/",
        views.decide,
        {"decision": "approved"},
        name="approve",
    ),
    path(
        "bills/<int:pk>/reject/",
        views.decide,
        {"decision": "rejected"},
        name="reject",
    ),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/pdf/", views.bill_pdf, name="bill_pdf"),
]
