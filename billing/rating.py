"""The rating engine: turn a consumption and a tariff's terms into charges.

Pure functions over plain values, so published worked cases can be tested
without a database. Each charge is rounded to the fen on its own, and a
bill's total is the sum of its rounded charges, as on a printed bill.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from billing.money import round_fen

ZERO = Decimal(0)


@dataclass(frozen=True)
class Block:
    """A block of a tiered tariff; `upper_kwh` None means no upper bound."""

    upper_kwh: Decimal | None
    price: Decimal


@dataclass(frozen=True)
class Surcharge:
    name: str
    price: Decimal


@dataclass(frozen=True)
class TariffTerms:
    """The prices of one tariff version, as the engine needs them.

    `block_scale` stretches monthly blocks to the billed period: 2 for a
    two-month cycle, 1.5 for 45 days.
    """

    energy_price: Decimal
    blocks: tuple[Block, ...] = ()
    surcharges: tuple[Surcharge, ...] = ()
    block_scale: Decimal = Decimal(1)


@dataclass(frozen=True)
class Charge:
    """One line of a bill."""

    kind: str
    description: str
    quantity_kwh: Decimal
    unit_price: Decimal
    amount: Decimal


class RatingError(ValueError):
    """Terms or a consumption the engine cannot rate."""


def _check_blocks(blocks: tuple[Block, ...]) -> None:
    previous = ZERO
    for index, block in enumerate(blocks):
        last = index == len(blocks) - 1
        if block.upper_kwh is None and not last:
            raise RatingError(
                f"Block {index + 1} has no upper bound but is not the last block; "
                "only the last block may be open-ended."
            )
        if block.upper_kwh is not None and block.upper_kwh <= previous:
            raise RatingError(
                f"Block {index + 1} ends at {block.upper_kwh} kWh, not above the "
                f"previous block's {previous} kWh; list blocks in rising order."
            )
        previous = block.upper_kwh if block.upper_kwh is not None else previous


def split_into_blocks(
    consumption_kwh: Decimal, blocks: tuple[Block, ...], scale: Decimal = Decimal(1)
) -> list[tuple[Decimal, Decimal, Decimal, Decimal | None]]:
    """Return (kWh, price, lower bound, upper bound) for each block used.

    Bounds are cumulative kWh within the period, multiplied by `scale`.
    Consumption above the last bounded block is charged at the last block's
    price when no open-ended block follows.
    """
    _check_blocks(blocks)
    parts = []
    lower = ZERO
    remaining = consumption_kwh
    for index, block in enumerate(blocks):
        if remaining <= 0:
            break
        last = index == len(blocks) - 1
        upper = None if block.upper_kwh is None else block.upper_kwh * scale
        if upper is None or last:
            used = remaining
        else:
            used = min(remaining, upper - lower)
        parts.append((used, block.price, lower, upper))
        remaining -= used
        if upper is not None:
            lower = upper
    return parts


def rate(consumption_kwh: Decimal, terms: TariffTerms) -> list[Charge]:
    """Return the charges for `consumption_kwh` under `terms`.

    A negative consumption cannot be priced and raises RatingError. The bill
    run puts such a bill on hold for review instead of rating it.
    """
    if consumption_kwh < 0:
        raise RatingError(
            f"Consumption {consumption_kwh} kWh is negative; check the readings."
        )
    charges: list[Charge] = []
    if terms.blocks:
        for used, price, lower, upper in split_into_blocks(
            consumption_kwh, terms.blocks, terms.block_scale
        ):
            if upper is None:
                description = _("Energy above %(lower)s kWh") % {
                    "lower": f"{lower.normalize():f}"
                }
            else:
                description = _("Energy %(lower)s-%(upper)s kWh") % {
                    "lower": f"{lower.normalize():f}",
                    "upper": f"{upper.normalize():f}",
                }
            charges.append(
                Charge("energy", description, used, price, round_fen(used * price))
            )
    else:
        charges.append(
            Charge(
                "energy",
                _("Energy"),
                consumption_kwh,
                terms.energy_price,
                round_fen(consumption_kwh * terms.energy_price),
            )
        )
    for surcharge in terms.surcharges:
        charges.append(
            Charge(
                "surcharge",
                surcharge.name,
                consumption_kwh,
                surcharge.price,
                round_fen(consumption_kwh * surcharge.price),
            )
        )
    return charges


def total(charges: list[Charge]) -> Decimal:
    """Return the sum of the charges' rounded amounts."""
    return sum((charge.amount for charge in charges), ZERO)
