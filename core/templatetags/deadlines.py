"""Deadlines as pages show them: a date in a year whose working-day calendar has not been
entered is computed Monday–Friday and marked provisional (暂定)."""

import datetime as dt

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.workdays import missing_years

register = template.Library()


@register.simple_tag(takes_context=True)
def deadline(context, day, fmt="Y-m-d"):
    if not day:
        return ""
    known = context.render_context.setdefault("calendar_missing", {})
    if day.year not in known:
        known[day.year] = bool(missing_years([day.year]))
    text = date_filter(day, fmt)
    if not isinstance(day, dt.date) or not known[day.year]:
        return text
    return format_html(
        '{} <span class="badge warn" title="{}">{}</span>',
        text,
        _("Counted Monday to Friday: this year's holidays are not entered yet."),
        _("provisional"),
    )
