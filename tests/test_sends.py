"""Send sites: what the AST scan finds in source files, the per-file cache,
``list --sends``, and property tests of the scanner on generated source."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.sends import FactsCache, source_files
from ckansig.sends.index import SendIndex, build_index
from ckansig.sends.scan import file_facts


def index_of(files: dict[str, tuple[str, str]]) -> SendIndex:
    """Scan ``{path: (module, source)}`` without touching the disk."""
    return build_index({path: (module, file_facts(textwrap.dedent(text).encode(), module))
                        for path, (module, text) in files.items()})


def found(index: SendIndex) -> set[tuple[str, str | None, tuple[str, ...] | None]]:
    return {(s.key, s.sender, s.kwargs) for s in index.sites}


SIGNALS_MODULE = """
    from blinker import Namespace
    ckan = Namespace()
    ckanext = Namespace()
    user_created = ckan.signal("user_created")
    action_succeeded = ckan.signal("action_succeed")
"""


def test_sends_through_imports_and_aliases() -> None:
    index = index_of({
        "pkg/signals.py": ("pkg.lib.signals", SIGNALS_MODULE),
        "pkg/create.py": ("pkg.logic.create", """
            from pkg.lib import signals
            from pkg.lib.signals import action_succeeded as done
            import pkg.lib.signals as sigs

            def user_create(user):
                signals.user_created.send(user.name, user=user)

            def wrapped(name, context, data_dict, result):
                done.send(name, context=context, data_dict=data_dict, result=result)
                sigs.user_created.send("bob")
        """),
    })
    assert found(index) == {
        ("ckan:user_created", "user.name", ("user",)),
        ("ckan:action_succeed", "name", ("context", "data_dict", "result")),
        ("ckan:user_created", "'bob'", ()),
    }
    site = index.sites_of("ckan", "user_created")[0]
    assert (site.file, site.line, site.method) == ("pkg/create.py", 7, "send")


def test_ckanext_signals_made_on_the_spot_and_bound_to_names() -> None:
    index = index_of({"ext/utils.py": ("ckanext.ext.utils", """
        import ckan.plugins.toolkit as tk
        from . import helpers

        collect = tk.signals.ckanext.signal("ext:collect", "doc")

        def gather():
            for _, item in collect.send():
                yield item
            tk.signals.ckanext.signal("ext:direct").send(None, size=1)
            tk.signals.user_created.send("alice", user=None)  # core, by attribute
            await_me = tk.signals.ckanext.signal(f"ext:{helpers.kind}").send_async(None)
    """)})
    assert found(index) == {
        ("ckanext:ext:collect", None, ()),
        ("ckanext:ext:direct", "None", ("size",)),
        ("ckan:user_created", "'alice'", ("user",)),
        ("ckanext:/ext:.*/", "None", ()),
    }
    assert [s.name for s in index.sites_of("ckanext", "ext:anything")] == [None]
    assert index.sent("ckanext", "ext:collect") == (frozenset(), frozenset(), 1)


def test_relative_imports_resolve_to_the_module_that_binds_the_signal() -> None:
    index = index_of({
        "ext/signals.py": ("ckanext.ext.signals", """
            import ckan.plugins.toolkit as tk
            ticket_created = tk.signals.ckanext.signal("ext:ticket_created")
        """),
        "ext/logic/action.py": ("ckanext.ext.logic.action", """
            from .. import signals as ext_signals
            from ..signals import ticket_created

            def create(ticket):
                ext_signals.ticket_created.send(ticket=ticket)
                ticket_created.send("x", ticket=ticket, by="me")
        """),
    })
    sent = index.sent("ckanext", "ext:ticket_created")
    assert sent is not None and sent.always == {"ticket"} and sent.ever == {"ticket", "by"}


def test_wrappers_forwards_and_unknown_keywords() -> None:
    index = index_of({"ext/notify.py": ("ckanext.ext.notify", """
        import flask.signals
        import ckan.plugins.toolkit as tk

        ready = tk.signals.ckanext.signal("ext:ready")
        started = tk.signals.ckanext.signal("ext:started")
        flask.signals.request_started.connect(started.send)

        def send_robust(signal, sender, **kwargs):
            try:
                signal.send(sender, **kwargs)
            except Exception:
                pass

        class Notifier:
            def emit(self, signal, **kwargs):
                signal.send(self, source="notifier", **kwargs)

        def go(details):
            send_robust(ready, "go", count=3)
            Notifier().emit(ready, level=2)
            ready.send("x", **details)
            mail.send("not a signal")
    """)})
    sites = {(s.key, s.method, s.sender, s.kwargs, s.via) for s in index.sites}
    assert sites == {
        ("ckanext:ext:started", "forward", None, None, None),
        ("ckanext:ext:ready", "send", "'go'", ("count",), "send_robust"),
        ("ckanext:ext:ready", "send", "self", ("source", "level"), "emit"),
        ("ckanext:ext:ready", "send", "'x'", None, None),
    }
    assert index.sent("ckanext", "ext:ready") is None  # one site passes **details


def test_files_that_do_not_parse_send_nothing() -> None:
    assert file_facts(b"def broken(:\n    signal.send(", "m") == file_facts(b"", "m")
    assert file_facts(b"\x00\xff", "m")["sends"] == []


def test_source_files_skip_tests_and_templates(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "fx_sendpkg"
    for relative in ("__init__.py", "core.py", "sub/__init__.py", "sub/deep.py",
                     "tests/test_core.py", "test_x.py", "conftest.py", "{{cookiecutter}}/a.py"):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    files = {p: m for p, m in source_files(["fx_sendpkg.core"]).items()
             if m.startswith("fx_sendpkg")}
    assert sorted(files.values()) == ["fx_sendpkg", "fx_sendpkg.core", "fx_sendpkg.sub",
                                      "fx_sendpkg.sub.deep"]


def test_the_cache_reads_a_file_again_only_when_it_changed(tmp_path: Path) -> None:
    source = tmp_path / "fx_cached.py"
    source.write_text('import blinker\nsig = blinker.signal("fx_cached")\n'
                      'def go():\n    sig.send("a", n=1)\n')
    files = {str(source): "fx_cached"}
    store = tmp_path / "cache" / "sends.json"
    first = FactsCache(str(store))
    assert build_index(first.facts(files)).sent(None, "fx_cached").ever == {"n"}
    assert first.read == 1 and store.exists()
    again = FactsCache(str(store))
    assert build_index(again.facts(files)).sent(None, "fx_cached").ever == {"n"}
    assert again.read == 0
    source.write_text(source.read_text().replace("n=1", "m=2, n=1"))
    os.utime(source, ns=(1, 1))  # a different mtime, whatever the clock's resolution
    changed = FactsCache(str(store))
    assert build_index(changed.facts(files)).sent(None, "fx_cached").ever == {"m", "n"}
    assert changed.read == 1


def test_a_damaged_or_unwritable_cache_changes_no_result(tmp_path: Path) -> None:
    source = tmp_path / "fx_cached2.py"
    source.write_text('import blinker\nblinker.signal("fx_cached2").send(1, k=2)\n')
    files = {str(source): "fx_cached2"}
    store = tmp_path / "sends.json"
    store.write_text("{not json")
    damaged = FactsCache(str(store))
    assert build_index(damaged.facts(files)).sent(None, "fx_cached2").ever == {"k"}
    assert json.loads(store.read_text().split("\n", 1)[1])  # rebuilt
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    unwritable = FactsCache(str(blocked / "sends.json"))
    assert build_index(unwritable.facts(files)).sent(None, "fx_cached2").ever == {"k"}


def _cached(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    source = tmp_path / "fx_cached3.py"
    source.write_text('import blinker\nblinker.signal("fx_cached3").send(1, k=2)\n')
    store = tmp_path / "cache" / "sends.json"
    FactsCache(str(store)).facts({str(source): "fx_cached3"})
    return source, {str(source): "fx_cached3"}, store


@pytest.mark.parametrize("edit", [
    lambda entries: {path: [*entry[:5], {"sends": "not a list"}]
                     for path, entry in entries.items()},  # valid JSON, wrong shape
    lambda entries: {path: entry[:2] for path, entry in entries.items()},  # cut short
    lambda entries: [1, 2, 3],  # not even a mapping
])
def test_a_cache_of_the_wrong_shape_is_never_trusted(tmp_path: Path, edit) -> None:
    source, files, store = _cached(tmp_path)
    header, text = store.read_text().split("\n", 1)
    # edited by hand, the header kept: the hash no longer matches, so it is rebuilt
    store.write_text(header + "\n" + json.dumps(edit(json.loads(text))))
    cache = FactsCache(str(store))
    assert build_index(cache.facts(files)).sent(None, "fx_cached3").ever == {"k"}
    assert cache.read == 1  # read again, and the cache repaired
    assert FactsCache(str(store)).entries[str(source)][5] is not None


def test_a_cache_of_another_version_is_rebuilt(tmp_path: Path) -> None:
    from ckansig import __version__

    _source, files, store = _cached(tmp_path)
    store.write_text(store.read_text().replace(f" {__version__} ", " 0.0.1 ", 1))
    cache = FactsCache(str(store))
    cache.facts(files)
    assert cache.read == 1


def test_a_change_that_keeps_size_and_mtime_is_seen(tmp_path: Path) -> None:
    # cp -p and rsync -t keep the size and the modification time: the status
    # change time (and the inode, for a copy) tell the file apart
    source, files, store = _cached(tmp_path)
    before = source.stat()
    source.write_text(source.read_text().replace("k=2", "j=2"))
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    assert source.stat().st_mtime_ns == before.st_mtime_ns
    cache = FactsCache(str(store))
    assert build_index(cache.facts(files)).sent(None, "fx_cached3").ever == {"j"}


def test_entries_of_files_that_are_gone_are_pruned(tmp_path: Path) -> None:
    source, _files, store = _cached(tmp_path)
    other = tmp_path / "fx_other.py"
    other.write_text('import blinker\nblinker.signal("fx_other").send(1, z=2)\n')
    FactsCache(str(store)).facts({str(other): "fx_other"})
    source.unlink()
    other.write_text(other.read_text() + "# changed\n")  # a run that saves the cache
    FactsCache(str(store)).facts({str(other): "fx_other"})
    assert str(source) not in FactsCache(str(store)).entries
    assert str(other) in FactsCache(str(store)).entries


@pytest.mark.parametrize("where", ["a source file", "the cache file"])
def test_fifos_are_never_opened(tmp_path: Path, where: str) -> None:
    fifo = tmp_path / ("fx_fifo.py" if where == "a source file" else "sends.json")
    os.mkfifo(fifo)
    good = tmp_path / "fx_good_send.py"
    good.write_text('import blinker\nblinker.signal("fx_good_send").send(1, k=2)\n')
    cache = FactsCache(str(fifo) if where == "the cache file" else str(tmp_path / "c.json"))
    files = {str(good): "fx_good_send"}
    if where == "a source file":
        files[str(fifo)] = "fx_fifo"
    # would block forever on open(); the test's own timeout is pytest's whole run
    assert build_index(cache.facts(files)).sent(None, "fx_good_send").ever == {"k"}


@pytest.mark.parametrize("links", [["loop -> ."], ["loop -> .", "sub/up -> .."],
                                   ["out -> OUTSIDE"]])
def test_symlinked_folders_never_lead_out_or_round(tmp_path: Path, links: list[str]) -> None:
    from ckansig.sends import _walk

    package = tmp_path / "fx_linked"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "core.py").write_text("x = 1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.py").write_text("y = 2\n")
    for link in links:
        name, target = link.split(" -> ")
        target_path = outside if target == "OUTSIDE" else Path(target)
        (package / name).symlink_to(target_path, target_is_directory=True)
    found = sorted(module for _, module in _walk(str(package), "fx_linked"))
    assert found == ["fx_linked", "fx_linked.core", "fx_linked.sub"]  # each file once


def test_list_sends(write_config, runner) -> None:
    config = write_config("fx_doc:NoKwargsOnSized", "fx_doc_custom")
    result = runner.invoke(main, ["list", "-c", str(config), "--sends", "fx_doc_custom_*",
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    sends = {s["name"]: s["sends"] for s in document["signals"]}
    assert sends["fx_doc_custom_unsent"] == []
    [sized] = sends["fx_doc_custom_sized"]
    assert sized["kwargs"] == ["size"] and sized["sender"] == "'fx_doc_custom'"
    assert sized["file"].endswith("fx_doc_custom.py") and sized["method"] == "send"
    text = runner.invoke(main, ["list", "-c", str(config), "--sends", "fx_doc_custom_*"])
    assert "sent nowhere in the source read" in text.output
    assert "send() sender='fx_doc_custom' kwargs=size" in text.output
    plain = runner.invoke(main, ["list", "-c", str(config), "--format", "json"])
    assert all("sends" not in s for s in json.loads(plain.output)["signals"])


# -- property tests --------------------------------------------------------------------

_identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda s: s not in {"if", "in", "is", "or", "as", "def", "for", "and", "not", "del",
                        "try", "with", "else", "elif", "from", "pass", "none", "true",
                        "false", "class", "yield", "while", "raise", "break", "async",
                        "await", "global", "import", "lambda", "return", "assert",
                        "except", "finally", "continue", "nonlocal", "match", "case"})
_names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
                 max_size=20)


@given(name=_names, sender=st.one_of(st.none(), st.integers(), _identifiers),
       keywords=st.lists(_identifiers, unique=True, max_size=5),
       variable=_identifiers, method=st.sampled_from(["send", "send_async", "send_robust"]))
@settings(max_examples=200, deadline=None)
def test_any_send_is_found_with_its_keywords(name: str, sender: object, keywords: list[str],
                                              variable: str, method: str) -> None:
    arguments = [] if sender is None else [repr(sender)]
    arguments += [f"{k}={i}" for i, k in enumerate(keywords)]
    source = (f"import ckan.plugins.toolkit as tk\n"
              f"{variable}_sig = tk.signals.ckanext.signal({name!r})\n"
              f"def go():\n    {variable}_sig.{method}({', '.join(arguments)})\n")
    index = index_of({"m.py": ("ckanext.m", source)})
    [site] = index.sites
    assert (site.namespace, site.name, site.method) == ("ckanext", name, method)
    assert site.kwargs == tuple(keywords)
    assert site.sender == (None if sender is None else repr(sender))
    assert index.sent("ckanext", name) == (frozenset(keywords), frozenset(keywords), 1)


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_scans_without_raising(text: str) -> None:
    facts = file_facts(text.encode("utf-8", "surrogatepass"), "m")
    assert set(facts) == {"defs", "imports", "sends", "wrappers", "calls"}
    build_index({"m.py": ("m", facts)})
