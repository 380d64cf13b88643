"""Rounding of money: every yuan amount on a bill passes through `round_fen`."""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def round_fen(amount: Decimal) -> Decimal:
    """Round a yuan amount to the fen (0.01 yuan), halves away from zero.

    Raise TypeError for a float, because a float has already lost the exact
    value that rounding must start from.
    """
    if isinstance(amount, float):
        raise TypeError(f"Money must be Decimal, got float {amount!r}.")
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)
