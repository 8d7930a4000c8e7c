from django.core.management.base import BaseCommand, CommandError

from core import auditchain


class Command(BaseCommand):
    help = "Check the audit log's hash chain; name the first event that no longer matches."

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="seal pending events first")

    def handle(self, *args, **options):
        if options["seal"]:
            self.stdout.write(f"sealed {auditchain.seal_pending()['sealed']} events")
        verdict = auditchain.verify()
        if verdict.broken_at is not None:
            raise CommandError(
                f"audit chain broken at event {verdict.broken_at} "
                f"({verdict.checked} events before it are intact)"
            )
        self.stdout.write(
            f"audit chain intact: {verdict.checked} events sealed, "
            f"{verdict.unsealed} waiting for the next sealing run"
        )
