"""JavaScript value semantics over plain Python JSON values.

Numbers are int or float; a computed number is normalised so that an integral
value is an int (JSON.stringify writes 3, not 3.0). `UNDEFINED` stands for
JavaScript's undefined, distinct from None (null). Whenever exact JS behaviour
would need more than these simple rules, a function raises `Fallback` and the
expression is evaluated by the JS engine instead.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()
MISSING: Any = object()


class Fallback(Exception):
    """This evaluation needs the JS engine."""


NUMBER = (int, float)
_PRIMITIVE = (str, bool, int, float, type(None), _Undefined)
_KNOWN = _PRIMITIVE + (list, dict)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SAFE_INT = 2**53

OBJECT_PROTO = frozenset(
    "constructor toString toLocaleString valueOf hasOwnProperty isPrototypeOf "
    "propertyIsEnumerable __proto__ __defineGetter__ __defineSetter__ "
    "__lookupGetter__ __lookupSetter__".split()
)
ARRAY_PROTO = OBJECT_PROTO | frozenset(
    "length concat every some forEach map filter reduce reduceRight fill find findIndex "
    "findLast findLastIndex indexOf lastIndexOf includes join pop push shift unshift "
    "reverse sort slice splice copyWithin flatMap flat values keys entries at toReversed "
    "toSorted toSpliced with".split()
)
STRING_PROTO = OBJECT_PROTO | frozenset(
    "length charCodeAt charAt concat codePointAt indexOf lastIndexOf includes endsWith "
    "startsWith match matchAll search split substring substr slice repeat replace "
    "replaceAll padEnd padStart trim trimEnd trimRight trimStart trimLeft __quote "
    "localeCompare toLowerCase toUpperCase toLocaleLowerCase toLocaleUpperCase anchor "
    "big blink bold fixed fontcolor fontsize italics link small strike sub sup "
    "normalize at isWellFormed toWellFormed".split()
)


def to_float(value: Any) -> float:
    """A JS number as a float; raises Fallback for non-numbers."""
    if type(value) not in NUMBER:
        raise Fallback
    try:
        return float(value)
    except OverflowError:
        raise Fallback from None


def number(value: float) -> int | float:
    """Normalise a computed double as JSON.stringify writes it.

    Integral values below 1e21 become ints (but not -0); past 2**53 the int is
    the one JS prints (shortest digits padded with zeros), not the double's exact value.
    """
    if value.is_integer() and (value != 0 or math.copysign(1, value) > 0):
        if abs(value) < _SAFE_INT:
            return int(value)
        if abs(value) < 1e21:
            return int(number_to_string(value))
    return value


def number_to_string(value: int | float) -> str:
    """ECMAScript Number::toString for radix 10."""
    if type(value) is int and -_SAFE_INT <= value <= _SAFE_INT:
        return str(value)
    x = float(value)
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    if x.is_integer() and x < _SAFE_INT:
        return str(int(x))
    # repr gives the shortest digits that round-trip, as the spec asks for.
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    k = len(digits)
    n = int(exponent) + len(digit_tuple)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def to_string(value: Any) -> str:
    """ToString of a primitive; objects raise Fallback (their toString is a prototype call)."""
    t = type(value)
    if t is str:
        return value
    if t is int or t is float:
        return number_to_string(value)
    if t is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    raise Fallback


def truthy(value: Any) -> bool:
    """JS ToBoolean: objects and arrays (even empty) are true."""
    if value is None or value is UNDEFINED:
        return False
    t = type(value)
    if t is bool:
        return value
    if t is str:
        return value != ""
    if t is int:
        return value != 0
    if t is float:
        return not (value == 0 or value != value)
    return True


def typeof(value: Any) -> str:
    """The JS `typeof` of a value."""
    if value is UNDEFINED:
        return "undefined"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if value is None or t is list or t is dict:
        return "object"
    raise Fallback


def array_index(key: str) -> int | None:
    """The array index a property key names, if it is a canonical one."""
    if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
        index = int(key)
        if index < 2**32 - 1:
            return index
    return None


def utf16_length(text: str) -> int:
    """The JS `.length` of a string: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def get_property(obj: Any, key: str, index: int | None) -> Any:
    """`obj[key]` for own data; inherited names and primitives other than strings fall back."""
    t = type(obj)
    if t is dict:
        value = obj.get(key, MISSING)
        if value is not MISSING:
            return value
        if key in OBJECT_PROTO:
            raise Fallback
        return UNDEFINED
    if t is list:
        if index is not None:
            return obj[index] if index < len(obj) else UNDEFINED
        if key in ARRAY_PROTO:
            if key == "length":
                return len(obj)
            raise Fallback
        return UNDEFINED
    if t is str:
        return _string_property(obj, key, index)
    # null and undefined throw a TypeError, numbers and booleans have prototypes.
    raise Fallback


def _string_property(text: str, key: str, index: int | None) -> Any:
    if key == "length":
        return utf16_length(text)
    if index is not None:
        if not _within_bmp(text):
            raise Fallback
        return text[index] if index < len(text) else UNDEFINED
    if key in STRING_PROTO:
        raise Fallback
    return UNDEFINED


def add(a: Any, b: Any) -> Any:
    """JS `+` on numbers and strings."""
    ta, tb = type(a), type(b)
    if ta in NUMBER and tb in NUMBER:
        return number(to_float(a) + to_float(b))
    if ta is str:
        return a + (b if tb is str else to_string(b))
    if tb is str:
        return to_string(a) + b
    raise Fallback


def subtract(a: Any, b: Any) -> Any:
    return number(to_float(a) - to_float(b))


def multiply(a: Any, b: Any) -> Any:
    return number(to_float(a) * to_float(b))


def divide(a: Any, b: Any) -> Any:
    x, y = to_float(a), to_float(b)
    if y == 0:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return number(x / y)


def remainder(a: Any, b: Any) -> Any:
    x, y = to_float(a), to_float(b)
    if y == 0 or x != x or y != y or math.isinf(x):
        return math.nan
    if math.isinf(y):
        return number(x)
    return number(math.fmod(x, y))


def comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Operands of `<` as Python values that order the way JS orders them."""
    ta, tb = type(a), type(b)
    if ta in NUMBER and tb in NUMBER:
        return to_float(a), to_float(b)
    # JS compares strings by UTF-16 code units, Python by code points: they differ past the BMP.
    if ta is str and tb is str and _within_bmp(a) and _within_bmp(b):
        return a, b
    raise Fallback


def _within_bmp(text: str) -> bool:
    return text.isascii() or not _ASTRAL.search(text)


def strict_equals(a: Any, b: Any) -> bool:
    """JS `===`; objects compare by identity, which falls back."""
    ta, tb = type(a), type(b)
    if ta in NUMBER and tb in NUMBER:
        return to_float(a) == to_float(b)
    if ta not in _KNOWN or tb not in _KNOWN:
        raise Fallback
    if ta is not tb:
        return False
    if ta is list or ta is dict:
        raise Fallback
    return a == b


def loose_equals(a: Any, b: Any) -> bool:
    """JS `==` where it is simple: null/undefined, or operands of one type."""
    a_nullish = a is None or a is UNDEFINED
    b_nullish = b is None or b is UNDEFINED
    if a_nullish or b_nullish:
        return a_nullish and b_nullish
    ta, tb = type(a), type(b)
    if ta is tb or (ta in NUMBER and tb in NUMBER):
        return strict_equals(a, b)
    raise Fallback


def to_json(value: Any) -> Any:
    """The top-level value as JSON.stringify then JSON.parse would return it."""
    if value is UNDEFINED:
        return None
    if type(value) is float:
        if value != value or math.isinf(value):
            return None
        if value == 0:
            return 0
    return value


def to_json_deep(value: Any) -> Any:
    """Like `to_json`, through arrays and objects (undefined members drop from objects)."""
    t = type(value)
    if t is list:
        return [to_json_deep(item) for item in value]
    if t is dict:
        return {k: to_json_deep(v) for k, v in value.items() if v is not UNDEFINED}
    return to_json(value)
