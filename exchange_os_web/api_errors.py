"""One error shape for the whole API: a message a person understands, plus per-field reasons."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        body: dict[str, Any] = {"error": str(data["detail"]), "fields": {}}
    elif isinstance(data, dict):
        fields = {key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in data.items()}
        body = {"error": "Some fields are not valid.", "fields": fields}
    else:
        body = {"error": "; ".join(str(m) for m in data), "fields": {}}
    response.data = body
    return response
