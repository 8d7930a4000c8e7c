from django.core.management.base import BaseCommand

from core.services import calendar_seed_from_package


class Command(BaseCommand):
    help = (
        "Load statutory holidays and adjusted working days from the chinese-calendar package "
        "for every year that has none yet (years already entered are left alone)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Calendar days added: {calendar_seed_from_package()}")
