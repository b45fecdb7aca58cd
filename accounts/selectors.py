"""Read-side queries for accounts."""

from .models import User


def user_by_address(*, address: str) -> User | None:
    return User.objects.filter(address=address).first()
