"""Whether money can be sent to an account: checked when lines are made and again before a
bank file goes out, so that a payment never leaves for an account the bank must refuse."""

from django.utils.translation import gettext as _

# UnionPay cards (银联卡: 16–19 digits starting with 6, which every one-card account of the
# Chongqing banks is) carry a Luhn check digit; passbook accounts (存折) do not.
CARD_LENGTHS = range(16, 20)


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def account_problem(holder: str, number: str) -> str:
    """Why the account cannot be paid into, or "" when it can."""
    number = (number or "").strip()
    if not number:
        return _("No bank account is recorded for the household.")
    if not number.isdigit() or not number.isascii():
        return _("The account number may contain digits only.")
    if not 10 <= len(number) <= 30:
        return _("The account number has the wrong length.")
    if number.startswith("6") and len(number) in CARD_LENGTHS and not luhn_ok(number):
        return _("The card number's check digit is wrong: a digit was mistyped.")
    if not (holder or "").strip():
        return _("The account holder's name is missing.")
    return ""
