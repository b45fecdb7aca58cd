"""Template context every page needs: which chain the site expects the wallet to be on."""

from django.conf import settings
from django.http import HttpRequest


def chain(request: HttpRequest) -> dict[str, object]:
    return {"expected_chain_id": settings.CHAIN_ID, "expected_chain_name": settings.CHAIN_NAME}
