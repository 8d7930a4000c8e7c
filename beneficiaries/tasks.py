"""Background jobs of the beneficiaries app. Thin: take ids, call a service."""

from celery import shared_task

from core.jobs import run_job

from . import duplicates, imports


@shared_task(ignore_result=True)
def import_check(batch_id: int) -> None:
    """The dry run of an uploaded household file."""
    imports.import_batch_check(batch_id=batch_id)


@shared_task(ignore_result=True)
def import_commit(batch_id: int, actor_id: int | None = None) -> None:
    """Import a checked household file in one transaction; ``actor_id`` confirmed it."""
    imports.import_batch_apply(batch_id=batch_id, actor_id=actor_id)


@shared_task(ignore_result=True)
def duplicates_find() -> None:
    """Every night (beat): the likely-duplicates list of the whole city, replaced."""
    run_job("duplicates_find", duplicates.duplicates_find)
