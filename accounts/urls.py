"""Page routes of accounts: the account page arrives with the unified account issue."""

from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.me, name="account-me"),
]
