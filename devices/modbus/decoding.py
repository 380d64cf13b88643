"""Decode and encode meter values held in 16-bit Modbus registers.

pymodbus's `convert_from_registers` takes a word order but no byte order, and
some meters swap the two bytes inside each register, so MeterOps packs the
bytes itself with `struct` from a register map entry's full description.
"""

import math
import struct
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# struct format and register count per data type.
DATA_TYPES = {
    "uint16": (">H", 1),
    "int16": (">h", 1),
    "uint32": (">I", 2),
    "int32": (">i", 2),
    "uint64": (">Q", 4),
    "int64": (">q", 4),
    "float32": (">f", 2),
    "float64": (">d", 4),
}


# Reading.value stores 16 digits with 4 decimal places.
MAX_VALUE = Decimal(10) ** 12


class DecodingError(ValueError):
    """Registers that cannot be turned into a finite value."""


@dataclass(frozen=True)
class RegisterSpec:
    """The register layout of one quantity in a meter's map."""

    quantity: str
    function_code: int
    address: int
    data_type: str
    word_order: str = "big"
    byte_order: str = "big"
    scale: Decimal = Decimal(1)
    decimals: int = 2

    @property
    def count(self) -> int:
        """Return the number of 16-bit registers the value occupies."""
        return register_count(self.data_type)


def register_count(data_type: str) -> int:
    """Return the number of registers a value of `data_type` occupies."""
    try:
        return DATA_TYPES[data_type][1]
    except KeyError:
        raise DecodingError(
            f"Unknown data type {data_type!r}; use one of {', '.join(DATA_TYPES)}."
        ) from None


def _to_big_endian_bytes(registers, word_order: str, byte_order: str) -> bytes:
    words = list(registers)
    if word_order == "little":
        words.reverse()
    raw = bytearray()
    for word in words:
        if not 0 <= word <= 0xFFFF:
            raise DecodingError(f"Register value {word} is outside 0..65535.")
        pair = word.to_bytes(2, "big")
        raw += pair if byte_order == "big" else pair[::-1]
    return bytes(raw)


def decode_raw(registers, data_type: str, word_order="big", byte_order="big"):
    """Return the int or float packed in `registers`, before scaling."""
    fmt, count = DATA_TYPES.get(data_type, (None, None))
    if fmt is None:
        raise DecodingError(f"Unknown data type {data_type!r}.")
    if len(registers) != count:
        raise DecodingError(
            f"{data_type} needs {count} registers, got {len(registers)}."
        )
    return struct.unpack(fmt, _to_big_endian_bytes(registers, word_order, byte_order))[
        0
    ]


def decode_value(registers, spec: RegisterSpec) -> Decimal:
    """Decode `registers` by `spec` into a scaled Decimal at the spec's resolution.

    Raise DecodingError for NaN or infinity, which a meter sends when a value
    is unavailable; such a value must never be stored as a reading.
    """
    raw = decode_raw(registers, spec.data_type, spec.word_order, spec.byte_order)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise DecodingError(
                f"{spec.quantity} at {spec.address:#06x} decoded to {raw}, "
                "which is not a finite number."
            )
        # repr() gives the shortest decimal string that round-trips the float,
        # so a float32 such as 1234.56 becomes Decimal("1234.56"), not its
        # binary expansion.
        number = Decimal(repr(raw))
    else:
        number = Decimal(raw)
    scaled = number * spec.scale
    if abs(scaled) >= MAX_VALUE:
        raise DecodingError(
            f"{spec.quantity} at {spec.address:#06x} decoded to {scaled}, beyond "
            f"the largest storable value {MAX_VALUE:,}; check the register map."
        )
    try:
        return scaled.quantize(
            Decimal(1).scaleb(-spec.decimals), rounding=ROUND_HALF_EVEN
        )
    except InvalidOperation as error:
        raise DecodingError(
            f"{spec.quantity} at {spec.address:#06x} decoded to {scaled}, which "
            f"cannot be kept to {spec.decimals} decimal places."
        ) from error


def encode_value(value, spec: RegisterSpec) -> list[int]:
    """Return the registers a meter would serve for `value` under `spec`.

    The inverse of `decode_value`, used by the concentrator simulator.
    """
    fmt, _count = DATA_TYPES[spec.data_type]
    unscaled = Decimal(str(value)) / spec.scale
    if spec.data_type.startswith("float"):
        packed = struct.pack(fmt, float(unscaled))
    else:
        packed = struct.pack(fmt, int(unscaled.to_integral_value(ROUND_HALF_EVEN)))
    words = []
    for offset in range(0, len(packed), 2):
        pair = packed[offset : offset + 2]
        if spec.byte_order == "little":
            pair = pair[::-1]
        words.append(int.from_bytes(pair, "big"))
    if spec.word_order == "little":
        words.reverse()
    return words
