"""doctor, list --sends and diff on real CKAN extensions from PyPI.

The set is the one issue #13 names: admin-panel with its example and support
plugins, better-stats, tour, event-audit, charts and mailcraft's dashboard,
beside CKAN's own activity plugin, on CKAN 2.12. ``.ci/run`` installs exactly
these releases into a virtualenv of their own (see EXTENSIONS there) and runs
this file with CKANSIG_REQUIRE_EXTENSIONS=1; elsewhere it is skipped.

The findings asserted are every finding doctor reports at its default level,
each one a maintainer would act on:

- admin_panel_example and mailcraft cannot load: their wheels lack the
  config_declaration files the plugins read, so CKAN would not start;
- event-audit's action_succeeded_subscriber has no **kwargs on a core signal;
- mailcraft_dashboard subscribes to a signal nothing defines or sends.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

try:
    import ckanext.ap_main
    import ckanext.mailcraft_dashboard  # noqa: F401

    HAVE_EXTENSIONS = True
except ImportError:
    HAVE_EXTENSIONS = False

REQUIRED = os.environ.get("CKANSIG_REQUIRE_EXTENSIONS") == "1"

pytestmark = [
    pytest.mark.extensions,
    pytest.mark.skipif(not HAVE_EXTENSIONS and not REQUIRED, reason=(
        "the real extension set is not installed here; .ci/run installs it in a CKAN 2.12 "
        "virtualenv of its own")),
]

PLUGINS = ("activity admin_panel admin_panel_example admin_panel_support better_stats tour "
           "event_audit charts_view mailcraft mailcraft_dashboard")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .test_ckan import child_ini, generated_ini

    folder = tmp_path_factory.mktemp("extensions")
    child_ini(folder, generated_ini(folder / "base.ini"), PLUGINS)
    return folder


def doctor(project: Path, *args: str) -> dict:
    from .test_ckan import ckansig

    done = ckansig("doctor", "--ckan-ini", "ckan.ini", "--format", "json", *args,
                   cwd=project, code=1)
    return json.loads(done.stdout)


def findings(document: dict) -> list[tuple[str, str, str | None, str | None, str | None]]:
    return sorted((p["id"], p["severity"], p["plugin"], p["signal"],
                   p["receiver"] and p["receiver"].rsplit(".", 1)[1])
                  for p in document["problems"] if not p["silenced"])


def test_default_findings_are_the_ones_worth_acting_on(project: Path) -> None:
    document = doctor(project)
    assert findings(document) == [
        ("SIG001", "error", "admin_panel_example", None, None),
        ("SIG001", "error", "mailcraft", None, None),
        ("SIG006", "warning", "event_audit", "action_succeed", "action_succeeded_subscriber"),
        ("SIG011", "warning", "mailcraft_dashboard", "ckanext.tables.register_tables", None),
    ]
    messages = {p["plugin"]: p["message"] for p in document["problems"]}
    assert "config_declaration" in messages["admin_panel_example"]
    assert document["summary"]["hidden"] == 1


def test_strict_adds_only_the_pedantic(project: Path) -> None:
    strict = findings(doctor(project, "--strict"))
    default = findings(doctor(project))
    assert [f for f in strict if f not in default] == [
        ("SIG006", "pedantic", "mailcraft_dashboard", "ckanext.tables.register_tables",
         "collect_tables")]


def test_send_sites_of_the_real_set(project: Path) -> None:
    from .test_ckan import ckansig

    document = json.loads(ckansig("list", "--ckan-ini", "ckan.ini", "--sends", "--format",
                                  "json", cwd=project, code=1).stdout)
    sends = {(s["namespace"], s["name"]): s["sends"] for s in document["signals"]}

    def where(key: tuple[str, str]) -> set[tuple[str, tuple[str, ...] | None]]:
        return {("/".join(Path(s["file"]).parts[-2:]),
                 None if s["kwargs"] is None else tuple(s["kwargs"])) for s in sends[key]}

    assert where(("ckanext", "ap_main:collect_config_sections")) == {("ap_main/helpers.py", ())}
    assert where(("ckanext", "better_stats:register_metrics")) == {
        ("metrics/base.py", ())}
    assert where(("ckanext", "ap_support:ticket_updated")) == {
        ("logic/action.py", ("ticket",))}
    assert where(("ckan", "action_succeed")) == {
        ("logic/__init__.py", ("context", "data_dict", "result"))}
    assert where(("ckan", "user_created")) == {("action/create.py", ("user",))}
    assert sends[("ckanext", "ckanext.tables.register_tables")] == []
