"""Backup and restore (issue 17, 等保 level 3): bin/backup of a working database and its uploads,
bin/restore into an empty database, and the copy has every row, an intact audit chain, the
audit log's guard, and the scans byte for byte."""

import json
import subprocess
import sys
import uuid
from contextlib import contextmanager

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from psycopg2 import sql

from applications import services as applications
from applications.models import Scan
from core import auditchain
from core.services import calendar_seed_from_package
from core.storage import EncryptedFileSystemStorage

from . import workers
from .factories import make_household, make_id, member_data
from .test_applications import ALL_MATERIALS, PNG

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and its client tools (CI runs it)")


def _server(database: str):
    params = connection.settings_dict
    return psycopg2.connect(
        dbname=database,
        user=params.get("USER") or "postgres",
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or "127.0.0.1",
        port=params.get("PORT") or 5432,
    )


@contextmanager
def empty_database():
    """A new database of its own name, dropped afterwards."""
    name = f"relief_restore_{uuid.uuid4().hex[:12]}"
    server = _server("postgres")
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield name
    finally:
        with server.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        server.close()


def _row_counts(database) -> dict[str, int]:
    with database.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(row[0] for row in cursor.fetchall())
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


def _bin(script: str, *arguments: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(  # noqa: S603 (our own scripts)
        [sys.executable, f"bin/{script}", *map(str, arguments)],
        cwd=workers.ROOT,
        env={**os.environ, "DATABASE_URL": workers.url_of_test_database(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _case_with_a_scan(cast, tree) -> Scan:
    calendar_seed_from_package()
    home = make_household(cast["clerk"], tree.village, members=[member_data(id_number=make_id())])
    (case,) = applications.application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=set(ALL_MATERIALS),
    ).applications
    return applications.scan_upload(
        actor=cast["clerk"],
        application=case,
        material="id_card",
        uploaded_file=SimpleUploadedFile("身份证.png", PNG),
    )


def test_a_backup_restored_into_an_empty_database_is_the_same_data(
    postgres, cast, tree, settings, tmp_path
):
    scan = _case_with_a_scan(cast, tree)
    (settings.MEDIA_ROOT / "exports").mkdir()
    (settings.MEDIA_ROOT / "exports" / "1-entitlements.csv").write_text("personal data")
    sealed = auditchain.seal_pending()["sealed"]
    assert sealed > 0 and auditchain.verify().broken_at is None
    source = _row_counts(connection.connection)

    backed_up = _bin("backup", "--to", tmp_path / "backups", MEDIA_ROOT=settings.MEDIA_ROOT)
    assert backed_up.returncode == 0, backed_up.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "database.dump",
        "manifest.json",
        "media.tar.gz",
    ]
    assert json.loads((folder / "manifest.json").read_text())["tables"] == source

    restored_media = tmp_path / "restored-media"
    with empty_database() as name:
        url = workers.url_of_test_database().rsplit("/", 1)[0] + f"/{name}"
        restored = _bin("restore", folder, "--database-url", url, MEDIA_ROOT=restored_media)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert f"audit chain intact: {sealed} events sealed" in restored.stdout
        assert f"all {len(source)} tables have the rows of the backup" in restored.stdout
        copy = _server(name)
        try:
            assert _row_counts(copy) == source
            with copy.cursor() as cursor, pytest.raises(psycopg2.errors.RaiseException):
                cursor.execute("UPDATE core_auditevent SET reason = 'changed'")
        finally:
            copy.close()
        # Into a database that is not empty (the same one again): refused, nothing touched.
        again = _bin("restore", folder, "--database-url", url, MEDIA_ROOT=tmp_path / "other")
        assert again.returncode != 0 and "restore into an empty database" in again.stderr
    # The scan comes back as it was stored (sealed), and opens to the uploaded picture.
    original = settings.MEDIA_ROOT / scan.file.name
    assert (restored_media / scan.file.name).read_bytes() == original.read_bytes()
    assert PNG not in original.read_bytes()
    restored_storage = EncryptedFileSystemStorage(location=restored_media)
    with restored_storage.open(scan.file.name) as handle:
        assert handle.read() == PNG
    assert not (restored_media / "exports").exists()  # registers of personal data stay out


def test_a_damaged_backup_is_refused(postgres, cast, tree, settings, tmp_path):
    _case_with_a_scan(cast, tree)
    backups = tmp_path / "backups"
    assert _bin("backup", "--to", backups, MEDIA_ROOT=settings.MEDIA_ROOT).returncode == 0
    (folder,) = backups.iterdir()
    with (folder / "media.tar.gz").open("r+b") as archive:
        archive.seek(20)
        archive.write(b"\x00\x01")
    with empty_database() as name:
        url = workers.url_of_test_database().rsplit("/", 1)[0] + f"/{name}"
        damaged = _bin("restore", folder, "--database-url", url, MEDIA_ROOT=tmp_path / "media2")
        assert damaged.returncode != 0 and "SHA-256 differs" in damaged.stderr
        copy = _server(name)
        try:
            assert _row_counts(copy) == {}
        finally:
            copy.close()
