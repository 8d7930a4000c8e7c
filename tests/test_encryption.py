"""Encryption at rest (issue 17): ID, bank and phone numbers sealed in the records and their
history tables, masked in the audit log, found by a keyed hash; every stored file sealed on
disk; keys rotated by a command."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from accounts.models import StaffRelative
from beneficiaries import selectors
from beneficiaries.models import Household, Member
from core import crypto, keyrotation
from core.fields import seal_existing
from core.models import AuditEvent

from .factories import make_household, make_id, member_data

ID = make_id("19550505", seq=55)
PHONE = "13987654321"
ACCOUNT = "6228480000001234567"
KEY_A, KEY_B = crypto.new_key(), crypto.new_key()
HASH_A, HASH_B = crypto.new_key(), crypto.new_key()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    default_storage.location = str(tmp_path)  # the storage object outlives the setting
    return tmp_path


@pytest.fixture
def home(cast, tree):
    return make_household(
        cast["clerk"],
        tree.village,
        members=[member_data("吴加密", id_number=ID)],
        phone=PHONE,
        bank_account_number=ACCOUNT,
    )


def _raw(sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _everything_stored_raw() -> str:
    rows = []
    for table in (
        "beneficiaries_member",
        "beneficiaries_historicalmember",
        "beneficiaries_household",
        "beneficiaries_historicalhousehold",
        "core_auditevent",
    ):
        rows += _raw(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
    return repr(rows)


def test_numbers_are_sealed_in_records_history_and_never_whole_in_the_audit_log(home):
    stored = _everything_stored_raw()
    for value in (ID, PHONE, ACCOUNT):
        assert value not in stored
    (sealed_id,) = _raw("SELECT id_number FROM beneficiaries_member")[0]
    assert crypto.is_sealed(sealed_id) and crypto.unseal(sealed_id) == ID
    # Read back as plain text through the models, history included.
    member = Member.objects.get(id_number_digest=ID)
    assert member.id_number == ID and member.history.latest().id_number == ID
    household = Household.objects.get(pk=home.pk)
    assert (household.phone, household.bank_account_number) == (PHONE, ACCOUNT)
    # The audit log says what changed, masked; it never needs the key to be read.
    masked = [e.changes for e in AuditEvent.objects.filter(object_type="beneficiaries.member")]
    assert any(c.get("id_number", [None, ""])[1] == ID[:6] + "********" + ID[14:] for c in masked)


def test_equal_numbers_never_look_alike_but_hash_alike():
    assert crypto.seal(ID) != crypto.seal(ID)
    assert crypto.digest(ID) == crypto.digest(ID) != crypto.digest(make_id(seq=57))


def test_search_is_exact_through_the_keyed_hash(home, cast):
    clerk = cast["clerk"]
    assert list(selectors.household_list(user=clerk, id_number=ID)) == [home]
    assert list(selectors.household_list(user=clerk, id_number=ID.lower())) == [home]
    assert not selectors.household_list(user=clerk, id_number=ID[:14]).exists()
    assert list(selectors.household_list(user=clerk, phone=PHONE)) == [home]
    assert selectors.person_locate(user=clerk, id_number=ID).member.household == home


def test_comparing_ciphertext_in_sql_is_refused_loudly():
    with pytest.raises(FieldError, match="encrypted"):
        Member.objects.filter(id_number=ID).exists()
    with pytest.raises(FieldError, match="encrypted"):
        Household.objects.filter(phone__startswith="139").exists()


def test_the_one_current_record_per_person_constraint_holds_on_the_hash(home, cast, tree):
    from core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        make_household(cast["clerk"], tree.village, members=[member_data("吴二", id_number=ID)])


def test_staff_relatives_are_sealed_and_matched_by_hash(home, cast):
    from applications.services import staff_relative_declare, staff_relatives_in

    staff_relative_declare(actor=cast["clerk"], name="吴加密", id_number=ID, relation="parent")
    (sealed,) = _raw("SELECT id_number FROM accounts_staffrelative")[0]
    assert ID not in sealed
    assert [r.staff for r in staff_relatives_in(home)] == [cast["clerk"]]
    assert StaffRelative.objects.get(id_number_digest=ID).id_number == ID


def test_a_stored_file_is_sealed_on_disk_and_read_back_whole(media):
    content = b"%PDF-1.7 \xe5\x90\xb4\xe5\x8a\xa0\xe5\xaf\x86 " + ID.encode() * 50_000
    name = default_storage.save("scans/test.pdf", ContentFile(content))
    on_disk = (media / name).read_bytes()
    assert ID.encode() not in on_disk and b"%PDF" not in on_disk
    with default_storage.open(name) as handle:
        assert handle.read() == content
    with default_storage.open(name) as handle:  # seekable, as a workbook reader needs
        handle.seek(len(content) - 18)
        assert handle.read() == ID.encode()
    assert default_storage.size(name) == len(content)


def test_an_altered_or_cut_file_is_refused_not_read(media):
    name = default_storage.save("scans/t.pdf", ContentFile(b"x" * 200_000))
    path = media / name
    sealed = bytearray(path.read_bytes())
    sealed[100] ^= 1
    path.write_bytes(bytes(sealed))
    with pytest.raises(crypto.DecryptionFailed), default_storage.open(name) as handle:
        handle.read()
    name = default_storage.save("scans/u.pdf", ContentFile(b"y" * 200_000))
    path = media / name
    path.write_bytes(path.read_bytes()[: crypto.HEADER + crypto.SEALED_SEGMENT])
    with pytest.raises(crypto.DecryptionFailed), default_storage.open(name) as handle:
        handle.read()


def test_a_scan_download_is_the_uploaded_file(client, cast, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.models import Scan
    from applications.services import application_intake
    from core.services import calendar_seed_from_package

    from .test_security import _pdf

    calendar_seed_from_package()
    home = make_household(cast["clerk"], cast["village_worker"].jurisdiction, [member_data()])
    (case,) = application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=set(),
    ).applications
    client.force_login(cast["clerk"])
    pdf = _pdf()
    client.post(
        reverse("applications:scan_upload", args=[case.pk]),
        {"material": "id_card", "file": SimpleUploadedFile("id.pdf", pdf)},
    )
    scan = Scan.objects.get()
    assert (media / scan.file.name).read_bytes()[:5] == crypto.MAGIC
    response = client.get(reverse("applications:scan_download", args=[case.pk, scan.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf


def test_keys_rotate_by_command_and_old_keys_can_then_go(home, media, settings, capsys):
    dev_keys, dev_hashes = settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEYS
    settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEYS = [KEY_A, *dev_keys], [HASH_A, *dev_hashes]
    call_command("rotate_keys")  # everything under A (the fixture wrote under the dev key)
    settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEYS = [KEY_A], [HASH_A]
    name = default_storage.save("exports/x.csv", ContentFile(ID.encode()))
    # New keys first, old ones kept: everything still reads and is still found.
    settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEYS = [KEY_B, KEY_A], [HASH_B, HASH_A]
    assert Member.objects.get(id_number_digest=ID).id_number == ID
    left = keyrotation.left_under_old_keys()
    assert left["beneficiaries.Member"] == 1 and left["files"] == 1
    with pytest.raises(CommandError, match="incomplete"):
        call_command("rotate_keys", "--check")
    call_command("rotate_keys")
    assert "beneficiaries.HistoricalMember" in capsys.readouterr().out
    call_command("rotate_keys", "--check")
    call_command("rotate_keys")  # idempotent
    # Old keys removed: everything reads and is found under the new ones alone.
    settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEYS = [KEY_B], [HASH_B]
    member = Member.objects.get(id_number_digest=ID)
    assert member.id_number == ID and member.history.latest().id_number == ID
    assert Household.objects.get(phone_digest=PHONE).bank_account_number == ACCOUNT
    with default_storage.open(name) as handle:
        assert handle.read() == ID.encode()
    # A value sealed under a key that is gone cannot be read: the old key really is unused.
    settings.ENCRYPTION_KEYS = [KEY_A]
    with pytest.raises(crypto.DecryptionFailed):
        Member.objects.get(pk=member.pk)


def test_files_stored_before_encryption_are_sealed_by_the_rotation(db, media):
    (media / "imports").mkdir()
    (media / "imports" / "old.csv").write_bytes(b"plain,old\n")
    assert keyrotation.left_under_old_keys() == {"files": 1}
    call_command("rotate_keys")
    assert (media / "imports" / "old.csv").read_bytes()[:5] == crypto.MAGIC
    with default_storage.open("imports/old.csv") as handle:
        assert handle.read() == b"plain,old\n"


def test_the_migration_seals_values_stored_in_plain(home):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE beneficiaries_member SET id_number = %s, id_number_digest = ''", [ID]
        )
    editor = SimpleNamespace(connection=connection)  # the step uses only its connection
    seal_existing("beneficiaries_member", {"id_number": "id_number_digest"})(None, editor)
    (stored,) = _raw("SELECT id_number FROM beneficiaries_member")[0]
    assert crypto.is_sealed(stored)
    assert Member.objects.get(id_number_digest=ID).id_number == ID


def test_the_search_page_says_a_partial_id_number_finds_nothing(client, cast, home):
    client.force_login(cast["clerk"])
    page = client.get("/households/", {"id_number": ID[:10]}).content.decode()
    assert "18" in page and home.number not in page
    assert home.number in client.get("/households/", {"id_number": ID}).content.decode()
