"""Calendar months: payments, reviews and standards run by the month."""

import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after ``day``'s month."""
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


def next_month(day: dt.date) -> dt.date:
    return add_months(day.replace(day=1), 1)
