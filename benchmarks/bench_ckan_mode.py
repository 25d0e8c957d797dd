"""CKAN mode (issue 11): ``list --ckan-ini`` and ``fire --app`` against plain
scripts doing the same through CKAN. Run it with the Python of a CKAN
virtualenv that has ckansig and ``examples/ckanext-demo`` installed, on a
ckan.ini whose database exists (``ckan db init``):

    /path/to/ckan-venv/bin/python benchmarks/bench_ckan_mode.py --ckan-ini ckan.ini [--runs 11]

Targets (ratios of medians of alternating whole-process runs):
- ``ckansig list --ckan-ini`` <= 1.15x a plain script that loads the ini's
  plugins through CKAN (its config loader, ``_get_service``, its ISignal
  rule and connect, config declarations) and prints blinker's receivers;
- ``ckansig fire --app`` <= 1.15x a plain script that builds the app
  (``make_app``), pushes a request context and sends ``user_created``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import ckan_missing, compare, report

PLAIN_LIST = textwrap.dedent("""
    import sys
    from ckan.cli import load_config
    from ckan.common import aslist, config, config_declaration
    from ckan.lib import signals
    from ckan.plugins import core, interfaces

    config.update(load_config(sys.argv[1]))
    for name in aslist(config.get("ckan.plugins")):
        service = core._get_service(name)
        core._PLUGINS.append(name)
        core._PLUGINS_SERVICE[name] = service
        if interfaces.ISignal.provided_by(service):
            core._connect_signals(service.get_signal_subscriptions())
    config_declaration.setup()
    config_declaration.normalize(config)
    for namespace in (signals.ckan, signals.ckanext):
        for name, signal in namespace.items():
            for receiver in signal.receivers.values():
                print(name, receiver)
""")

PLAIN_FIRE = textwrap.dedent("""
    import sys
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    from ckan.lib import signals
    from ckan.views import identify_user

    app = make_app(load_config(sys.argv[1]))
    with app._wsgi_app.test_request_context("/"):
        identify_user()
        for receiver, result in signals.user_created.send("bob"):
            print(receiver, repr(result))
""")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ckan-ini", required=True, help="a ckan.ini whose database exists")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    if ckan_missing("bench_ckan_mode"):
        return 2
    ini = str(Path(args.ckan_ini).resolve())
    folder = Path(tempfile.mkdtemp())
    (folder / "plain_list.py").write_text(PLAIN_LIST)
    (folder / "plain_fire.py").write_text(PLAIN_FIRE)
    script = shutil.which("ckansig", path=str(Path(sys.executable).parent)) or "ckansig"
    base, cand = compare([sys.executable, str(folder / "plain_list.py"), ini],
                         [script, "--ckan-ini", ini, "list", "--format", "json"],
                         runs=args.runs, cwd=str(folder))
    ok = report("ckansig list --ckan-ini (vs CKAN loading the plugins)", base, cand, 1.15)
    base, cand = compare([sys.executable, str(folder / "plain_fire.py"), ini],
                         [script, "--ckan-ini", ini, "fire", "user_created", "--app", "--kw",
                          "username=bob", "--format", "json"],
                         runs=args.runs, cwd=str(folder))
    ok &= report("ckansig fire --app (vs make_app, a request context and send)", base, cand,
                 1.15)
    shutil.rmtree(folder)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
