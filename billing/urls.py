from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("runs/", views.runs, name="runs"),
    path("review/", views.review, name="review"),
]
