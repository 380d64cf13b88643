"""The rating engine on published worked cases and edge cases."""

from decimal import Decimal

import pytest

from billing.money import round_fen
from billing.rating import Block, RatingError, Surcharge, TariffTerms, rate, total

D = Decimal


def hebei_residential_blocks():
    # Hebei residential under 1 kV, monthly equivalent of the annual tiers.
    return (Block(D(180), D("0.52")), Block(D(280), D("0.57")), Block(None, D("0.82")))


def test_monthly_blocks_summer_month_case():
    # Blocks 0-260 at 0.64, 261-600 at 0.69, above 600 at 0.94; 650 kWh.
    terms = TariffTerms(
        energy_price=D("0.64"),
        blocks=(
            Block(D(260), D("0.64")),
            Block(D(600), D("0.69")),
            Block(None, D("0.94")),
        ),
    )

    charges = rate(D(650), terms)

    assert [charge.quantity_kwh for charge in charges] == [D(260), D(340), D(50)]
    assert total(charges) == D("448.00")


def test_blocks_scale_with_two_month_cycle():
    # Monthly blocks 110/330/500/700 doubled for a two-month cycle; 1,040 kWh.
    terms = TariffTerms(
        energy_price=D("2.10"),
        blocks=(
            Block(D(110), D("2.10")),
            Block(D(330), D("2.68")),
            Block(D(500), D("3.27")),
            Block(D(700), D("3.55")),
            Block(None, D("3.97")),
        ),
        block_scale=D(2),
    )

    charges = rate(D(1040), terms)

    assert [charge.quantity_kwh for charge in charges] == [
        D(220),
        D(440),
        D(340),
        D(40),
    ]
    assert total(charges) == D("2895.00")


def test_blocks_scale_with_45_day_period():
    terms = TariffTerms(
        energy_price=D(1),
        blocks=(Block(D(100), D(1)), Block(D(300), D(2)), Block(None, D(3))),
        block_scale=D("1.5"),
    )

    charges = rate(D(500), terms)

    assert [charge.quantity_kwh for charge in charges] == [D(150), D(300), D(50)]


def test_consumption_on_block_boundary_uses_lower_block_only():
    charges = rate(D(180), TariffTerms(D("0.52"), hebei_residential_blocks()))

    assert len(charges) == 1
    assert charges[0].amount == D("93.60")


def test_consumption_just_over_boundary():
    charges = rate(D("180.5"), TariffTerms(D("0.52"), hebei_residential_blocks()))

    assert [charge.quantity_kwh for charge in charges] == [D(180), D("0.5")]
    assert total(charges) == D("93.60") + D("0.29")


def test_all_three_hebei_tiers():
    charges = rate(D(300), TariffTerms(D("0.52"), hebei_residential_blocks()))

    # 180 × 0.52 + 100 × 0.57 + 20 × 0.82
    assert total(charges) == D("93.60") + D("57.00") + D("16.40")


def test_flat_price_with_itemised_surcharges():
    terms = TariffTerms(
        energy_price=D("0.6"),
        surcharges=(
            Surcharge("Rural grid loan repayment", D("0.02")),
            Surcharge("Reservoir resettlement", D("0.0062")),
            Surcharge("Renewable energy", D("0.019")),
        ),
    )

    charges = rate(D(1234), terms)

    assert [charge.kind for charge in charges] == [
        "energy",
        "surcharge",
        "surcharge",
        "surcharge",
    ]
    assert [charge.amount for charge in charges] == [
        D("740.40"),
        D("24.68"),
        D("7.65"),
        D("23.45"),
    ]
    assert total(charges) == D("796.18")


def test_each_line_rounded_half_up_to_fen():
    charges = rate(D("0.5"), TariffTerms(energy_price=D("0.025")))

    # 0.0125 rounds half up to 0.01.
    assert charges[0].amount == D("0.01")


def test_zero_consumption_costs_nothing():
    charges = rate(D(0), TariffTerms(D("0.52"), hebei_residential_blocks()))

    assert total(charges) == D(0)


def test_negative_consumption_rejected():
    with pytest.raises(RatingError, match="-5"):
        rate(D(-5), TariffTerms(energy_price=D("0.52")))


def test_open_block_before_last_rejected():
    terms = TariffTerms(D(1), blocks=(Block(None, D(1)), Block(D(100), D(2))))

    with pytest.raises(RatingError, match="only the last block"):
        rate(D(10), terms)


def test_blocks_out_of_order_rejected():
    terms = TariffTerms(D(1), blocks=(Block(D(200), D(1)), Block(D(100), D(2))))

    with pytest.raises(RatingError, match="rising order"):
        rate(D(10), terms)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("1590.084"), D("1590.08")),
        (D("3180.168"), D("3180.17")),
        (D("0.005"), D("0.01")),
        (D("-0.005"), D("-0.01")),
        (D("2329.14375"), D("2329.14")),
    ],
)
def test_round_fen(amount, expected):
    assert round_fen(amount) == expected


def test_round_fen_rejects_float():
    with pytest.raises(TypeError, match="float"):
        round_fen(0.1)


def test_price_difference_multiply_then_round():
    # Back-billing a price difference with a penalty of twice the difference:
    # the penalty is twice the exact difference, then rounded.
    difference = D(5400) * D("0.1972") + D(1620) * D("0.3242")

    assert round_fen(difference) == D("1590.08")
    assert round_fen(2 * difference) == D("3180.17")
    assert 2 * round_fen(difference) == D("3180.16")
