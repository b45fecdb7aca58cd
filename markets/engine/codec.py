"""JSON-safe codec shared by commands and events (plain dicts with a ``type`` key)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

__all__ = ["CodecError", "Registry"]

T = TypeVar("T", bound=NamedTuple)

_CHECKS: dict[str, type] = {"int": int, "str": str, "bool": bool}


def _annotation_name(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return str(getattr(annotation, "__forward_arg__", annotation))


class CodecError(ValueError):
    """A dict could not be decoded into a command or event."""


class Registry:
    """Maps stable ``type`` names to NamedTuple classes and back."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.by_name: dict[str, type[Any]] = {}
        self._fields: dict[str, tuple[tuple[str, type], ...]] = {}
        self._names: dict[type[Any], str] = {}

    def register(self, cls: type[T]) -> type[T]:
        # each class declares its stable name as a constant property (mypy allows no class
        # attributes in a NamedTuple body); it ignores ``self``, so read it off the class
        name: str = cls.type.fget(None)  # type: ignore[attr-defined]
        if name in self.by_name:
            raise RuntimeError(f"duplicate {self.kind} type {name!r}")
        annotations = cls.__annotations__
        fields = tuple((f, _CHECKS[_annotation_name(annotations[f])]) for f in cls._fields)
        self.by_name[name] = cls
        self._names[cls] = name
        self._fields[name] = fields
        return cls

    def field_types(self, cls: type[Any]) -> tuple[type, ...]:
        """Expected exact type of each field, in field order."""
        return tuple(t for _, t in self._fields[self.name_of(cls)])

    def name_of(self, cls: type[Any]) -> str:
        """The stable type name of a registered class."""
        return self._names[cls]

    def to_dict(self, obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"type": obj.type}
        out.update(zip(obj._fields, obj, strict=True))
        return out

    def from_dict(self, data: dict[str, Any]) -> Any:
        if not isinstance(data, dict):
            raise CodecError(f"{self.kind}: expected a dict")
        name = data.get("type")
        cls = self.by_name.get(name) if isinstance(name, str) else None
        if cls is None:
            raise CodecError(f"unknown {self.kind} type {name!r}")
        fields = self._fields[name]  # type: ignore[index]
        known = {f for f, _ in fields}
        extra = set(data) - known - {"type"}
        if extra:
            raise CodecError(f"{name}: unknown fields {sorted(extra)}")
        values = []
        defaults = cls._field_defaults
        for field, want in fields:
            if field in data:
                value = data[field]
            elif field in defaults:
                value = defaults[field]
            else:
                raise CodecError(f"{name}: missing field {field!r}")
            # bool is a subclass of int: refuse it where an int is expected, and vice versa
            if type(value) is not want:
                raise CodecError(f"{name}.{field}: expected {want.__name__}, got {type(value).__name__}")
            values.append(value)
        return cls(*values)
