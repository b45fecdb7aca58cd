"""Sign-In with Ethereum over JSON: nonce, login, logout, and who am I."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from eth_utils.address import to_checksum_address
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .services import SignInError, SiweExpectations, siwe_login, siwe_message_text, siwe_nonce_issue


def _expectations(request: HttpRequest) -> SiweExpectations:
    host = request.get_host()
    return SiweExpectations(
        domain=settings.SIWE_DOMAIN or host,
        uri_origin=f"{request.scheme}://{host}",
        chain_id=settings.CHAIN_ID,
    )


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)


class NonceApi(APIView):
    """Issue a nonce and, given the wallet's address, the exact EIP-4361 text for the wallet to sign.

    The server writes the text so the browser needs no keccak for the EIP-55 checksum; the login
    still checks every field of whatever text comes back.
    """

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NonceInput"

        address = serializers.RegexField(
            r"^0x[0-9a-fA-F]{40}$", error_messages={"invalid": "Expected a 20-byte hex address (0x…)."}
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "NonceOutput"

        message = serializers.CharField()
        nonce = serializers.CharField()
        domain = serializers.CharField()
        uri = serializers.CharField()
        chain_id = serializers.IntegerField()
        issued_at = serializers.CharField()
        expiration_time = serializers.CharField()
        statement = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, summary="Start a wallet sign-in")
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        expect = _expectations(request)
        nonce = siwe_nonce_issue(session_key=_session_key(request))
        iso = "%Y-%m-%dT%H:%M:%S.000Z"
        issued_at = nonce.created_at.strftime(iso)
        expiration_time = (nonce.created_at + timedelta(seconds=settings.SIWE_NONCE_TTL_S)).strftime(iso)
        statement = "Sign in to Exchange OS."
        message = siwe_message_text(
            address=to_checksum_address(payload.validated_data["address"]),
            domain=expect.domain,
            uri=f"{expect.uri_origin}/",
            chain_id=expect.chain_id,
            nonce=nonce.nonce,
            issued_at=issued_at,
            expiration_time=expiration_time,
            statement=statement,
        )
        data = {
            "message": message,
            "nonce": nonce.nonce,
            "domain": expect.domain,
            "uri": f"{expect.uri_origin}/",
            "chain_id": expect.chain_id,
            "issued_at": issued_at,
            "expiration_time": expiration_time,
            "statement": statement,
        }
        return Response(self.OutputSerializer(data).data)


class LoginApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LoginInput"

        message = serializers.CharField(max_length=4000)
        signature = serializers.RegexField(
            r"^0x[0-9a-fA-F]{130}$", error_messages={"invalid": "Expected a 65-byte hex signature (0x…)."}
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LoginOutput"

        address = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, summary="Finish a wallet sign-in")
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            user = siwe_login(
                message=payload.validated_data["message"],
                signature=payload.validated_data["signature"],
                session_key=_session_key(request),
                expect=_expectations(request),
            )
        except SignInError as exc:
            return Response(
                {"error": exc.message, "fields": {exc.field: [exc.message]}}, status=status.HTTP_400_BAD_REQUEST
            )
        login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")
        return Response(self.OutputSerializer({"address": user.address}).data)


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None}, summary="Sign out")
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MeOutput"

        authenticated = serializers.BooleanField()
        address = serializers.CharField(allow_null=True)

    @extend_schema(responses=OutputSerializer, summary="Who is signed in")
    def get(self, request: Request) -> Response:
        user = request.user
        address = getattr(user, "address", None) if user.is_authenticated else None
        return Response(self.OutputSerializer({"authenticated": user.is_authenticated, "address": address}).data)
