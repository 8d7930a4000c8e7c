from django.core.management.base import BaseCommand

from regions.services import regions_seed


class Command(BaseCommand):
    help = "Load Chongqing's region tree (real district codes, demo townships and villages)."

    def handle(self, *args, **options):
        added = regions_seed()
        self.stdout.write(
            "Regions added: " + ", ".join(f"{level} {count}" for level, count in added.items())
        )
