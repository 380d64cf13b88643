"""Register maps of the meter models MeterOps supports, as product data.

Addresses are 0-based protocol addresses. Sources: the manufacturers'
published Modbus register tables (Chint DTSU666/DDSU666 manuals, Eastron
SDM630/SDM120 protocol documents, Acrel ADW300 and DDSY1352 manuals,
Schneider iEM3000 register list, Carlo Gavazzi EM24 communication protocol).
`install_meter_models` writes them into the database; a data migration and
the demo call it, and staff can edit the result in the admin.
"""

from decimal import Decimal

F32 = "float32"

# Each entry: quantity, function code, address, data type, word order,
# byte order, scale, decimals.
CATALOG = {
    "chint-dtsu666": {
        "manufacturer": "Chint",
        "name": "DTSU666",
        "phases": 3,
        "notes": "float32 big-endian words; FC3 (some firmware also answers FC4).",
        "registers": [
            ("import_kwh", 3, 0x101E, F32, "big", "big", "1", 2),
            ("export_kwh", 3, 0x1028, F32, "big", "big", "1", 2),
            ("voltage_l1", 3, 0x2006, F32, "big", "big", "0.1", 1),
            ("voltage_l2", 3, 0x2008, F32, "big", "big", "0.1", 1),
            ("voltage_l3", 3, 0x200A, F32, "big", "big", "0.1", 1),
            ("current_l1", 3, 0x200C, F32, "big", "big", "0.001", 3),
            ("current_l2", 3, 0x200E, F32, "big", "big", "0.001", 3),
            ("current_l3", 3, 0x2010, F32, "big", "big", "0.001", 3),
            ("active_power", 3, 0x2012, F32, "big", "big", "0.1", 1),
            ("reactive_power", 3, 0x201A, F32, "big", "big", "0.1", 1),
            ("power_factor", 3, 0x202A, F32, "big", "big", "0.001", 3),
            ("frequency", 3, 0x2044, F32, "big", "big", "0.01", 2),
        ],
    },
    "chint-dtsu666-h": {
        "manufacturer": "Chint",
        "name": "DTSU666-H",
        "phases": 3,
        "notes": "Same addresses as the DTSU666, but in engineering units.",
        "registers": [
            ("import_kwh", 3, 0x101E, F32, "big", "big", "1", 2),
            ("export_kwh", 3, 0x1028, F32, "big", "big", "1", 2),
            ("voltage_l1", 3, 0x2006, F32, "big", "big", "1", 1),
            ("voltage_l2", 3, 0x2008, F32, "big", "big", "1", 1),
            ("voltage_l3", 3, 0x200A, F32, "big", "big", "1", 1),
            ("current_l1", 3, 0x200C, F32, "big", "big", "1", 3),
            ("current_l2", 3, 0x200E, F32, "big", "big", "1", 3),
            ("current_l3", 3, 0x2010, F32, "big", "big", "1", 3),
            ("active_power", 3, 0x2012, F32, "big", "big", "1", 1),
            ("power_factor", 3, 0x202A, F32, "big", "big", "1", 3),
            ("frequency", 3, 0x2044, F32, "big", "big", "1", 2),
        ],
    },
    "chint-ddsu666": {
        "manufacturer": "Chint",
        "name": "DDSU666",
        "phases": 1,
        "notes": "Engineering units; active power in kW, stored here in W.",
        "registers": [
            ("voltage_l1", 3, 0x2000, F32, "big", "big", "1", 1),
            ("current_l1", 3, 0x2002, F32, "big", "big", "1", 3),
            ("active_power", 3, 0x2004, F32, "big", "big", "1000", 1),
            ("reactive_power", 3, 0x2006, F32, "big", "big", "1000", 1),
            ("power_factor", 3, 0x200A, F32, "big", "big", "1", 3),
            ("frequency", 3, 0x200E, F32, "big", "big", "1", 2),
            ("import_kwh", 3, 0x4000, F32, "big", "big", "1", 2),
            ("export_kwh", 3, 0x400A, F32, "big", "big", "1", 2),
        ],
    },
    "eastron-sdm630": {
        "manufacturer": "Eastron",
        "name": "SDM630",
        "phases": 3,
        "notes": "FC4 input registers, engineering units.",
        "registers": [
            ("voltage_l1", 4, 0x0000, F32, "big", "big", "1", 1),
            ("voltage_l2", 4, 0x0002, F32, "big", "big", "1", 1),
            ("voltage_l3", 4, 0x0004, F32, "big", "big", "1", 1),
            ("current_l1", 4, 0x0006, F32, "big", "big", "1", 3),
            ("current_l2", 4, 0x0008, F32, "big", "big", "1", 3),
            ("current_l3", 4, 0x000A, F32, "big", "big", "1", 3),
            ("active_power", 4, 0x0034, F32, "big", "big", "1", 1),
            ("power_factor", 4, 0x003E, F32, "big", "big", "1", 3),
            ("frequency", 4, 0x0046, F32, "big", "big", "1", 2),
            ("import_kwh", 4, 0x0048, F32, "big", "big", "1", 2),
            ("export_kwh", 4, 0x004A, F32, "big", "big", "1", 2),
        ],
    },
    "eastron-sdm120": {
        "manufacturer": "Eastron",
        "name": "SDM120",
        "phases": 1,
        "notes": "FC4 input registers, engineering units.",
        "registers": [
            ("voltage_l1", 4, 0x0000, F32, "big", "big", "1", 1),
            ("current_l1", 4, 0x0006, F32, "big", "big", "1", 3),
            ("active_power", 4, 0x000C, F32, "big", "big", "1", 1),
            ("power_factor", 4, 0x001E, F32, "big", "big", "1", 3),
            ("frequency", 4, 0x0046, F32, "big", "big", "1", 2),
            ("import_kwh", 4, 0x0048, F32, "big", "big", "1", 2),
            ("export_kwh", 4, 0x004A, F32, "big", "big", "1", 2),
        ],
    },
    "acrel-adw300": {
        "manufacturer": "Acrel",
        "name": "ADW300",
        "phases": 3,
        "notes": "FC3 integers.",
        "registers": [
            ("voltage_l1", 3, 20, "uint16", "big", "big", "0.1", 1),
            ("voltage_l2", 3, 21, "uint16", "big", "big", "0.1", 1),
            ("voltage_l3", 3, 22, "uint16", "big", "big", "0.1", 1),
            ("current_l1", 3, 26, "uint16", "big", "big", "0.01", 2),
            ("current_l2", 3, 27, "uint16", "big", "big", "0.01", 2),
            ("current_l3", 3, 28, "uint16", "big", "big", "0.01", 2),
            ("active_power", 3, 36, "int32", "big", "big", "1", 0),
            ("import_kwh", 3, 62, "int32", "big", "big", "0.01", 2),
            ("export_kwh", 3, 64, "int32", "big", "big", "0.01", 2),
        ],
    },
    "acrel-ddsy1352": {
        "manufacturer": "Acrel",
        "name": "DDSY1352",
        "phases": 1,
        "notes": "Prepaid single-phase meter with its own TOU registers; FC3 integers.",
        "registers": [
            ("import_kwh", 3, 0x0000, "uint32", "big", "big", "0.01", 2),
            ("import_kwh_sharp", 3, 0x0002, "uint32", "big", "big", "0.01", 2),
            ("import_kwh_peak", 3, 0x0004, "uint32", "big", "big", "0.01", 2),
            ("import_kwh_flat", 3, 0x0006, "uint32", "big", "big", "0.01", 2),
            ("import_kwh_valley", 3, 0x0008, "uint32", "big", "big", "0.01", 2),
            ("voltage_l1", 3, 0x000B, "uint16", "big", "big", "0.1", 1),
            ("current_l1", 3, 0x000C, "uint16", "big", "big", "0.01", 2),
            ("active_power", 3, 0x000D, "int16", "big", "big", "1", 0),
            ("power_factor", 3, 0x0010, "int16", "big", "big", "0.001", 3),
        ],
    },
    "schneider-iem3000": {
        "manufacturer": "Schneider Electric",
        "name": "iEM3000",
        "phases": 3,
        "notes": "Manual register numbers are 1-based; these addresses are 0-based.",
        "registers": [
            ("current_l1", 3, 0x0BB7, F32, "big", "big", "1", 3),
            ("current_l2", 3, 0x0BB9, F32, "big", "big", "1", 3),
            ("current_l3", 3, 0x0BBB, F32, "big", "big", "1", 3),
            ("voltage_l1", 3, 0x0BD3, F32, "big", "big", "1", 1),
            ("voltage_l2", 3, 0x0BD5, F32, "big", "big", "1", 1),
            ("voltage_l3", 3, 0x0BD7, F32, "big", "big", "1", 1),
            ("active_power", 3, 0x0BF3, F32, "big", "big", "1000", 1),
            ("frequency", 3, 0x0C25, F32, "big", "big", "1", 2),
            ("import_kwh", 3, 0x0C83, "int64", "big", "big", "0.001", 3),
            ("export_kwh", 3, 0x0C87, "int64", "big", "big", "0.001", 3),
        ],
    },
    "carlo-gavazzi-em24": {
        "manufacturer": "Carlo Gavazzi",
        "name": "EM24 (RS-485)",
        "phases": 3,
        "notes": "int32 with the low word first. Total import is at 0x42 here, "
        "where the Ethernet model keeps L2 import.",
        "registers": [
            ("voltage_l1", 4, 0x00, "int32", "little", "big", "0.1", 1),
            ("voltage_l2", 4, 0x02, "int32", "little", "big", "0.1", 1),
            ("voltage_l3", 4, 0x04, "int32", "little", "big", "0.1", 1),
            ("current_l1", 4, 0x0C, "int32", "little", "big", "0.001", 3),
            ("current_l2", 4, 0x0E, "int32", "little", "big", "0.001", 3),
            ("current_l3", 4, 0x10, "int32", "little", "big", "0.001", 3),
            ("active_power", 4, 0x28, "int32", "little", "big", "0.1", 1),
            ("import_kwh", 4, 0x42, "int32", "little", "big", "0.1", 1),
            ("export_kwh", 4, 0x5C, "int32", "little", "big", "0.1", 1),
        ],
    },
    "carlo-gavazzi-em24-e1": {
        "manufacturer": "Carlo Gavazzi",
        "name": "EM24 (Ethernet, E1)",
        "phases": 3,
        "notes": "int32 with the low word first. Total import at 0x34.",
        "registers": [
            ("voltage_l1", 4, 0x00, "int32", "little", "big", "0.1", 1),
            ("voltage_l2", 4, 0x02, "int32", "little", "big", "0.1", 1),
            ("voltage_l3", 4, 0x04, "int32", "little", "big", "0.1", 1),
            ("current_l1", 4, 0x0C, "int32", "little", "big", "0.001", 3),
            ("current_l2", 4, 0x0E, "int32", "little", "big", "0.001", 3),
            ("current_l3", 4, 0x10, "int32", "little", "big", "0.001", 3),
            ("active_power", 4, 0x28, "int32", "little", "big", "0.1", 1),
            ("import_kwh", 4, 0x34, "int32", "little", "big", "0.1", 1),
            ("export_kwh", 4, 0x4E, "int32", "little", "big", "0.1", 1),
        ],
    },
}

REGISTER_FIELDS = (
    "quantity",
    "function_code",
    "address",
    "data_type",
    "word_order",
    "byte_order",
    "scale",
    "decimals",
)


def register_rows(code: str) -> list[dict]:
    """Return the register map of catalog model `code` as field dictionaries."""
    rows = []
    for entry in CATALOG[code]["registers"]:
        row = dict(zip(REGISTER_FIELDS, entry, strict=True))
        row["scale"] = Decimal(row["scale"])
        rows.append(row)
    return rows


def install_meter_models(meter_model_class, register_class) -> int:
    """Create or update every catalog model and its register map; return the count.

    Takes the model classes as arguments so a data migration can pass its
    historical models.
    """
    for code, spec in CATALOG.items():
        meter_model, _created = meter_model_class.objects.update_or_create(
            code=code,
            defaults={
                "manufacturer": spec["manufacturer"],
                "name": spec["name"],
                "phases": spec["phases"],
                "notes": spec["notes"],
            },
        )
        for row in register_rows(code):
            quantity = row.pop("quantity")
            register_class.objects.update_or_create(
                meter_model=meter_model, quantity=quantity, defaults=row
            )
    return len(CATALOG)
