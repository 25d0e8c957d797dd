"""CKAN's pytest plugin resets the core tables in ``clean_db``; the activity
plugin's own tables come from its migrations, applied here after each reset."""

import pytest


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    reset_db()
    migrate_db_for("activity")
