"""Register decoding by meter model, on register values worked out by hand."""

from decimal import Decimal

import pytest

from devices.catalog import CATALOG, register_rows
from devices.modbus.decoding import (
    DecodingError,
    RegisterSpec,
    decode_raw,
    decode_value,
    encode_value,
)

D = Decimal


def catalog_spec(model_code, quantity):
    row = next(row for row in register_rows(model_code) if row["quantity"] == quantity)
    return RegisterSpec(**row)


@pytest.mark.parametrize(
    ("quantity", "registers", "expected"),
    [
        # float32 1234.56 is 0x449A51EC, high word first.
        ("import_kwh", [0x449A, 0x51EC], D("1234.56")),
        # 2301 in units of 0.1 V is 230.1 V.
        ("voltage_l1", [0x450F, 0xD000], D("230.1")),
        # 15000 in units of 0.001 A is 15 A.
        ("current_l1", [0x466A, 0x6000], D("15.000")),
        # Power is signed: -12345.6 × 0.1 W is 1234.56 W of export.
        ("active_power", [0xC640, 0xE666], D("-1234.6")),
        # 123456.78 is beyond float32's 0.01 resolution; it decodes to the
        # nearest float32 and then rounds to the register's two places.
        ("import_kwh", [0x47F1, 0x2064], D("123456.78")),
    ],
)
def test_dtsu666_decoding(quantity, registers, expected):
    assert decode_value(registers, catalog_spec("chint-dtsu666", quantity)) == expected


def test_dtsu666_h_voltage_in_volts():
    # The -H variant sends engineering units: the same registers mean 2301 V.
    spec = catalog_spec("chint-dtsu666-h", "voltage_l1")

    assert decode_value([0x450F, 0xD000], spec) == D("2301.0")


def test_dtsu666_energy_addresses():
    spec = catalog_spec("chint-dtsu666", "import_kwh")

    assert spec.address == 0x101E
    assert spec.function_code == 3
    assert spec.data_type == "float32"
    assert spec.word_order == "big"


def test_nan_rejected():
    with pytest.raises(DecodingError, match="not a finite number"):
        decode_value([0x7FC0, 0x0000], catalog_spec("chint-dtsu666", "import_kwh"))


def test_infinity_rejected():
    with pytest.raises(DecodingError, match="inf"):
        decode_value([0x7F80, 0x0000], catalog_spec("chint-dtsu666", "import_kwh"))


def test_low_word_first_int32():
    # Carlo Gavazzi EM24: int32 123456 (0x0001E240) sent low word first.
    spec = catalog_spec("carlo-gavazzi-em24", "import_kwh")

    assert decode_value([0xE240, 0x0001], spec) == D("12345.6")


def test_swapped_bytes_inside_words():
    assert decode_raw([0x9A44, 0xEC51], "float32", "big", "little") == pytest.approx(
        1234.56, abs=1e-3
    )


def test_int64_energy_in_wh():
    # Schneider iEM3000: int64 Wh over four registers.
    spec = catalog_spec("schneider-iem3000", "import_kwh")

    assert decode_value([0x0000, 0x0000, 0x075B, 0xCD15], spec) == D("123456.789")


def test_uint32_hundredths():
    spec = catalog_spec("acrel-ddsy1352", "import_kwh")

    assert decode_value([0x0001, 0xE240], spec) == D("1234.56")


def test_wrong_register_count_rejected():
    with pytest.raises(DecodingError, match="needs 2 registers, got 1"):
        decode_raw([0x449A], "float32")


def test_unknown_data_type_rejected():
    with pytest.raises(DecodingError, match="float16"):
        decode_raw([0], "float16")


@pytest.mark.parametrize("model_code", sorted(CATALOG))
def test_catalog_round_trip(model_code):
    for row in register_rows(model_code):
        spec = RegisterSpec(**row)
        value = D("1.5")

        decoded = decode_value(encode_value(value, spec), spec)

        assert decoded == value.quantize(D(1).scaleb(-spec.decimals)), row


@pytest.mark.parametrize("model_code", sorted(CATALOG))
def test_catalog_float32_at_even_addresses(model_code):
    # A float32 at an odd address in these maps is almost always an
    # off-by-one that straddles two values.
    for row in register_rows(model_code):
        if row["data_type"] == "float32" and model_code.startswith(
            ("chint", "eastron")
        ):
            assert row["address"] % 2 == 0, row


@pytest.mark.parametrize("model_code", sorted(CATALOG))
def test_catalog_registers_do_not_overlap(model_code):
    occupied = {}
    for row in register_rows(model_code):
        spec = RegisterSpec(**row)
        for offset in range(spec.count):
            key = (spec.function_code, spec.address + offset)
            assert key not in occupied, (
                f"{row['quantity']} overlaps {occupied.get(key)}"
            )
            occupied[key] = row["quantity"]
