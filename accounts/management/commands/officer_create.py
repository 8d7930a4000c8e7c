import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.roles import OFFICER_ROLES
from regions.models import Region

PASSWORD_VARIABLE = "OFFICER_PASSWORD"  # noqa: S105 (the name of a variable, not a password)


class Command(BaseCommand):
    help = (
        "Make the account of an account administrator, security administrator or auditor "
        "(三员). The account administrator cannot make these in the admin. The password is "
        f"asked for, or read from ${PASSWORD_VARIABLE} with --noinput; it must be changed at "
        "the first login."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(OFFICER_ROLES))
        parser.add_argument(
            "--region", default="", help="jurisdiction code (default: the whole city)"
        )
        parser.add_argument("--full-name", default="")
        parser.add_argument("--noinput", action="store_true")

    def handle(self, *args, username, role, region, full_name, noinput, **options):
        jurisdiction = (
            Region.objects.filter(code=region).first()
            if region
            else Region.objects.filter(level=Region.Level.CITY).first()
        )
        if jurisdiction is None:
            raise CommandError(f"no region {region or '(city)'}: run seed_regions first")
        password = self._password(noinput)
        try:
            validate_password(password)
            user = services.officer_create(
                username=username,
                password=password,
                role=role,
                jurisdiction=jurisdiction,
                full_name=full_name,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"{user.username}: {user.get_role_display()}, {jurisdiction}")

    def _password(self, noinput: bool) -> str:
        if noinput:
            password = os.environ.get(PASSWORD_VARIABLE, "")
            if not password:
                raise CommandError(f"set ${PASSWORD_VARIABLE} with --noinput")
            return password
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return password
