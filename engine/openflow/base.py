"""The base of every OpenFlow model, and input transforms.

Every model keeps the fields it does not know (`extra="allow"`) and remembers the key order
it was loaded with, so a load/dump round trip gives back the document as it was written.
Models are strict: a document is data, so nothing is coerced (`"3"` stays an error rather
than silently becoming `3` and changing the document on save).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError


class OpenFlowModel(BaseModel):
    """Base model: strict, unknown fields kept, loaded key order kept on dump."""

    model_config = ConfigDict(
        extra="allow",
        strict=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    _key_order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: Any) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _dump_in_loaded_order(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if not self._key_order or not isinstance(out, dict):
            return out
        # Keys set after loading (by the editor) have no rank and go last, in model order.
        rank = {key: index for index, key in enumerate(self._key_order)}
        return dict(sorted(out.items(), key=lambda item: rank.get(item[0], len(rank))))


def _number_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else None


def _require_number(value: Any) -> Any:
    if _number_kind(value) is None:
        raise PydanticCustomError("number_type", "input should be a number")
    return value


Number = Annotated[Union[int, float], BeforeValidator(_require_number)]
"""A JSON number; an int stays an int so a round trip does not turn `5` into `5.0`."""


class StaticTransform(OpenFlowModel):
    """An input given as a fixed JSON value."""

    type: Literal["static"]
    value: Any = None
    """The value passed as is (absent means null)."""


class JavascriptTransform(OpenFlowModel):
    """An input computed by a JavaScript expression over flow_input, results, ..."""

    type: Literal["javascript"]
    expr: str
    """The JavaScript expression."""


InputTransform = Annotated[Union[StaticTransform, JavascriptTransform], Field(discriminator="type")]
"""`{"type": "static", "value": ...}` or `{"type": "javascript", "expr": "..."}`."""

TRANSFORM_TYPES = ("static", "javascript")


def _number_or_transform_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type")
        return kind if kind in TRANSFORM_TYPES else None
    if isinstance(value, (StaticTransform, JavascriptTransform)):
        return value.type
    return "number" if _number_kind(value) else None


NumberOrTransform = Annotated[
    Union[
        Annotated[StaticTransform, Tag("static")],
        Annotated[JavascriptTransform, Tag("javascript")],
        Annotated[Number, Tag("number")],
    ],
    Discriminator(
        _number_or_transform_kind,
        custom_error_type="number_or_transform",
        custom_error_message=(
            "input should be a number or an input transform "
            '({"type": "static", "value": ...} or {"type": "javascript", "expr": ...})'
        ),
    ),
]
"""A number, or an input transform that computes it (sleep, timeout, parallelism)."""
