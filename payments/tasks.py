"""Celery tasks: thin, they take ids and call a service."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def payroll_generate(payroll_id: int):
    """Make a requested payroll's lines (queued when the request commits; a second delivery
    finds the payroll claimed and does nothing)."""
    services.payroll_generate(payroll_id=payroll_id)
