"""Money is Decimal yuan to the fen."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .exceptions import ValidationFailed

MAX_AMOUNT = Decimal("99999999.99")  # what the amount columns hold


def parse_amount(value, field: str = "amount") -> Decimal:
    """A positive amount in yuan to the fen, or ValidationFailed (never NaN, never a figure
    the database cannot store)."""
    try:
        amount = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or not Decimal("0") < amount <= MAX_AMOUNT:
        raise ValidationFailed([(field, _("Enter an amount in yuan above 0."))])
    return amount


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def rmb_upper(amount: Decimal) -> str:
    """The amount in financial capitals (大写), as written on payment approvals:
    ``2500.00`` → 人民币贰仟伍佰元整, ``1001.05`` → 人民币壹仟零壹元零伍分."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan, fen = divmod(int(amount * 100), 100)
    words = _integer_upper(yuan) + "元" if yuan else ""
    jiao, fen = divmod(fen, 10)
    if not jiao and not fen:
        return "人民币" + (words or "零元") + "整"
    if jiao:
        words += ("零" if yuan and yuan % 10 == 0 else "") + _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    else:
        words += "整"
    return "人民币" + words


def _integer_upper(n: int) -> str:
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out, zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if not group:
            zero = bool(out)
            continue
        text = ""
        for position in range(3, -1, -1):
            digit = group // 10**position % 10
            if digit:
                if zero:
                    text += "零"
                    zero = False
                text += _DIGITS[digit] + _SMALL[position]
            elif text or out:
                zero = True
        out += text + _GROUPS[index]
        zero = group % 10 == 0
    return out


def fen(value) -> Decimal:
    """A sum as yuan to the fen (an empty sum is 0.00; SQLite's sums drop the scale)."""
    return (value or Decimal("0")).quantize(Decimal("0.01"))
