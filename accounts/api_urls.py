"""API routes for wallet sign-in."""

from django.urls import path

from . import apis

urlpatterns = [
    path("nonce", apis.NonceApi.as_view(), name="api-auth-nonce"),
    path("login", apis.LoginApi.as_view(), name="api-auth-login"),
    path("logout", apis.LogoutApi.as_view(), name="api-auth-logout"),
    path("me", apis.MeApi.as_view(), name="api-auth-me"),
]
