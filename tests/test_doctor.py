"""``ckansig doctor``: one fixture per check that triggers it and only it,
near-misses that trigger nothing, silencing, formats and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.cli import main
from ckansig.config import load_config
from ckansig.doctor import diagnose
from ckansig.doctor.catalogue import CHECKS
from ckansig.loading import load

from .conftest import FIXTURES, ROOT


@pytest.fixture
def doctor(write_config, clean_slate):
    """Load ``plugins`` in a clean process state and diagnose them."""

    def run(*plugins: str, extra: str = "", **kwargs):
        clean_slate.restore()  # each load starts afresh, as a new process would
        config = load_config(write_config(*plugins, extra=extra))
        return diagnose(load(config), config, **kwargs)

    return run


def ids(report) -> list[str]:
    return sorted({p.id for p in report.active()})


FIRES_ALONE = [
        # SIG001: missing module, import error, missing attribute
        (["fx_nowhere.plugin:Plugin"], "SIG001", "error"),
        (["fx_missing_dep"], "SIG001", "error"),
        (["fx_good:Missing"], "SIG001", "error"),
        # SIG002: get_signal_subscriptions() raises or returns a non-mapping
        (["fx_subs:Raises"], "SIG002", "error"),
        (["fx_subs:ReturnsList"], "SIG002", "error"),
        # SIG003: a string key
        (["fx_subs:StringKey"], "SIG003", "error"),
        # SIG004: dict without receiver, unknown option, sender 0
        (["fx_subs:NoReceiverKey"], "SIG004", "error"),
        (["fx_subs:UnknownOption"], "SIG004", "error"),
        (["fx_subs:ZeroSender"], "SIG004", "error"),
        # SIG005: not callable
        (["fx_subs:NotCallable"], "SIG005", "error"),
        # SIG006: no sender, extra required, no **kwargs where kwargs are sent
        (["fx_doc:NoSender"], "SIG006", "error"),
        (["fx_doc:ExtraRequired"], "SIG006", "error"),
        (["fx_doc:NoKwargsOnUserCreated"], "SIG006", "error"),
        # SIG006 as a warning: no **kwargs where the kwargs are unknown or may grow
        (["fx_doc:NoKwargsOnSized", "fx_doc_custom"], "SIG006", "error"),
        (["fx_doc:NamedKwargsOnly"], "SIG006", "warning"),
        # SIG007: lambda, partial and a bound method of a temporary object
        (["fx_subs:Dropped"], "SIG007", "error"),
        (["fx_doc:DroppedMethod"], "SIG007", "error"),
        # SIG008: a coroutine receiver
        (["fx_doc:AsyncReceiver"], "SIG008", "error"),
        # SIG009: a custom signal in ckan, a typo in ckan, a typo in ckanext
        (["fx_doc:CustomInCore"], "SIG009", "warning"),
        (["fx_doc:TypoInCore"], "SIG009", "warning"),
        (["fx_doc:TypoInCkanext", "fx_provider"], "SIG009", "warning"),
        # SIG010: successful_login was never sent
        (["fx_doc:SuccessfulLogin"], "SIG010", "warning"),
        # SIG011: only a subscriber mentions the signal
        (["fx_subscriber:SubscriberPlugin"], "SIG011", "warning"),
        # SIG012: a custom signal without the extension's prefix
        (["fx_badprefix"], "SIG012", "warning"),
        # SIG013: the same receiver twice for one sender
        (["fx_doc:Twice"], "SIG013", "warning"),
        # SIG014: connected at import time
        (["fx_import_time"], "SIG014", "info"),
        # SIG015: a float sender, a string sender where the app sends
        (["fx_doc:FloatSender"], "SIG015", "warning"),
        (["fx_doc:StringOnRequestStarted"], "SIG015", "warning"),
        # SIG016: mutation (warning), read without default (info)
        (["fx_doc:Mutates"], "SIG016", "warning"),
        (["fx_doc:MutatesNamed"], "SIG016", "warning"),
        (["fx_doc:ReadsWithoutDefault"], "SIG016", "warning"),
        # SIG017: a missing bracket, prose after the mark, an ID no check has
        (["fx_doc:BadComments"], "SIG017", "error"),
        # SIG018: a receiver whose source cannot be read (made by exec)
        (["fx_doc:NoSource"], "SIG018", "info"),
        (["fx_doc:NotISignal"], "SIG019", "error"),
        (["fx_doc:NewEachCall"], "SIG020", "warning"),
        (["fx_doc:BlueprintTypo"], "SIG021", "error"),
        # SIG022: defined but sent nowhere; a typo of a name that is sent
        (["fx_doc:NeverSent", "fx_doc_custom"], "SIG022", "warning"),
        (["fx_doc:SentTypo"], "SIG022", "warning"),
]

#: Findings true to the letter of CKAN's guide but rarely worth acting on: shown
#: only with --strict.
PEDANTIC = [
    # SIG006: no **kwargs on a signal whose sites pass **mapping (the kwargs are unknown)
    (["fx_doc:NoKwargsOnCustom", "fx_doc_custom"], "SIG006"),
]


def test_every_check_is_registered_and_has_a_fixture() -> None:
    from ckansig.doctor.context import REGISTERED

    assert sorted(REGISTERED) == sorted(CHECKS)
    assert all(REGISTERED[i].check is CHECKS[i] for i in CHECKS)
    assert {expected for _, expected, _ in FIRES_ALONE} == set(CHECKS)


@pytest.mark.parametrize(("plugins", "expected", "severity"), FIRES_ALONE)
def test_each_check_fires_alone(doctor, plugins: list[str], expected: str,
                                severity: str) -> None:
    report = doctor(*plugins)
    assert ids(report) == [expected], [p.message for p in report.active()]
    assert doctor(*plugins, select=[expected]).problems == report.problems
    assert {p.severity for p in report.active()} == {severity}
    for problem in report.active():
        assert problem.file, problem  # every finding points somewhere
        assert problem.hint == CHECKS[expected].hint


@pytest.mark.parametrize(
    "plugins",
    [
        ["fx_doc:KeptAlive"],  # staticmethod, classmethod, method of the plugin: not SIG007
        ["fx_subscriber:SubscriberPlugin", "fx_provider"],  # provider loaded: not SIG011
        ["fx_doc:TwiceOtherSender"],  # different senders: not SIG013
        ["fx_doc:StringOnBlueprint"],  # register_blueprint's sender is a str: not SIG015
        ["fx_doc:Careful"],  # own kwargs copy, .get(), guarded read: not SIG016
        # every send site passes no keywords: a receiver without **kwargs is fine (SIG006)
        ["fx_doc:NoKwargsOnQuiet", "fx_doc_custom"],
        ["fx_doc:ReadsWhatIsSent", "fx_doc_custom"],  # every send site passes it: not SIG016
        # sent under a name made at run time (an f-string): not SIG022, nor SIG011
        ["fx_doc:SubscribesToMadeName", "fx_doc_custom"],
        ["fx_doc:Silenced"],  # a well-formed comment silences: not SIG017 (and SIG016 silenced)
        ["fx_doc:LoggedIn"],  # sent by 2.11+, and 2.12 is the default: not SIG010
        ["fx_doc:InheritsISignal"],  # a base's implements(ISignal) counts on 2.11+: not SIG019
        ["fx_doc:InheritsWithInherit"],  # inherit=True: not SIG019
        ["fx_good:GoodPlugin"],
    ],
)
def test_near_misses_are_quiet(doctor, plugins: list[str]) -> None:
    report = doctor(*plugins)
    assert report.active() == [], [p.message for p in report.active()]
    assert report.hidden == 0


@pytest.mark.parametrize(("plugins", "expected"), PEDANTIC)
def test_pedantic_findings_need_strict(doctor, plugins: list[str], expected: str) -> None:
    quiet = doctor(*plugins)
    assert quiet.active() == [] and quiet.hidden == 1
    strict = doctor(*plugins, strict=True)
    assert [(p.id, p.severity) for p in strict.active()] == [(expected, "pedantic")]
    assert not strict.fails("info") and strict.fails("pedantic")
    assert doctor(*plugins, extra="[ckansig.doctor]\nstrict = true\n").active() \
        == strict.active()


def test_strict_on_the_command_line(tmp_path: Path, write_config, runner) -> None:
    config = write_config("fx_doc:NoKwargsOnCustom", "fx_doc_custom")
    quiet = runner.invoke(main, ["doctor", "-c", str(config)])
    assert quiet.exit_code == 0 and "1 pedantic hidden, see --strict" in quiet.output
    strict = runner.invoke(main, ["doctor", "-c", str(config), "--strict"])
    assert strict.exit_code == 0 and "SIG006" in strict.output, strict.output
    failing = runner.invoke(main, ["doctor", "-c", str(config), "--fail-level", "pedantic"])
    assert failing.exit_code == 1 and "SIG006" in failing.output


def test_select_runs_only_the_selected_checks(doctor, monkeypatch) -> None:
    from ckansig.doctor import context

    ran: set[str] = set()
    for check_id, registered in list(context.REGISTERED.items()):
        def spy(*args, _id=check_id, _run=registered.run):
            ran.add(_id)
            return _run(*args)
        monkeypatch.setitem(context.REGISTERED, check_id, registered._replace(run=spy))
    report = doctor("fx_doc:AsyncReceiver", "fx_subs:Raises", select=["SIG008"])
    assert ran == {"SIG008"}
    assert ids(report) == ["SIG008"]


def test_release_aware_check(doctor) -> None:
    report = doctor("fx_doc:LoggedIn", ckan_version=(2, 10))
    assert ids(report) == ["SIG010"]
    assert "sent from CKAN 2.11 on" in report.active()[0].message


def test_successful_login_names_the_replacement(doctor) -> None:
    (problem,) = doctor("fx_doc:SuccessfulLogin").active()
    assert "use user_logged_in" in problem.message


def test_typo_suggests_the_known_name(doctor) -> None:
    (problem,) = doctor("fx_doc:TypoInCore").active()
    assert "did you mean user_created?" in problem.message


def test_findings_point_at_the_receiver_or_the_line(doctor) -> None:
    fixture = str(FIXTURES / "fx_doc.py")
    (dropped,) = doctor("fx_doc:DroppedMethod").active()
    assert (dropped.file, dropped.line) == (fixture, 72)  # def receiver(self, …)
    (mutation,) = doctor("fx_doc:Mutates").active()
    assert (mutation.file, mutation.line) == (fixture, 204)  # kwargs.get("user")["name"] = …
    (prefix,) = doctor("fx_badprefix").active()
    assert prefix.file == str(FIXTURES / "fx_badprefix.py") and prefix.line == 5


def test_config_line_for_a_missing_module(doctor) -> None:
    (problem,) = doctor("fx_nowhere.plugin:Plugin").active()
    assert problem.file.endswith("plugins.toml") and problem.line == 3


def test_silencing_by_comment_config_and_option(doctor) -> None:
    report = doctor("fx_doc:Silenced")
    assert report.active() == [] and report.summary()["silenced"] == 1
    assert report.problems[0].silenced == "comment"
    ignored = doctor("fx_doc:Mutates", ignore=["SIG016"])
    assert ignored.active() == [] and ignored.problems[0].silenced == "--ignore"
    configured = doctor("fx_doc:Mutates",
                        extra='[ckansig.doctor]\nignore = ["SIG016"]\n')
    assert configured.problems[0].silenced == "config"
    per_receiver = doctor("fx_doc:Mutates", extra=(
        '[ckansig.doctor.per_receiver]\n"fx_doc.mut*" = ["SIG016"]\n'))
    assert per_receiver.problems[0].silenced == "config"


def test_select_keeps_only_those_checks(doctor) -> None:
    report = doctor("fx_doc:Mutates", "fx_doc:FloatSender", select=["SIG015"])
    assert ids(report) == ["SIG015"]


def test_bundled_example_has_no_errors_or_warnings(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    config = load_config(ROOT / "plugins.toml")
    report = diagnose(load(config), config)
    assert {p.severity for p in report.active()} <= {"info"}


# -- the command ---------------------------------------------------------------------


def run(runner, *args: str):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_cli_exit_codes_and_fail_level(runner, write_config, clean_slate) -> None:
    config = str(write_config("fx_doc:Mutates"))
    assert run(runner, "doctor", "-c", config).exit_code == 0  # a warning < error
    clean_slate.restore()
    assert run(runner, "doctor", "-c", config, "--fail-level", "warning").exit_code == 1
    clean_slate.restore()
    errors = str(write_config("fx_subs:Dropped"))
    result = run(runner, "doctor", "-c", errors)
    assert result.exit_code == 1
    assert "SIG007" in result.stdout and "2 problems: 2 errors" in result.stdout


def test_cli_json(runner, write_config) -> None:
    config = str(write_config("fx_doc:Mutates", "fx_doc:Silenced"))
    result = run(runner, "doctor", "-c", config, "--format", "json")
    document = json.loads(result.stdout)
    assert document["summary"] == {"error": 0, "warning": 1, "info": 0, "pedantic": 0,
                                   "silenced": 1, "hidden": 0}
    problem = next(p for p in document["problems"] if not p["silenced"])
    assert set(problem) >= {"id", "severity", "message", "hint", "plugin", "signal",
                            "namespace", "receiver", "file", "line"}
    assert problem["id"] == "SIG016" and problem["plugin"] == "fx_doc:Mutates"


def test_cli_github_annotations(runner, write_config) -> None:
    config = str(write_config("fx_subs:Dropped"))
    lines = run(runner, "doctor", "-c", config, "--format", "github").stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == 2
    assert all(",title=SIG007::" in line and "line=" in line for line in annotations)


def test_cli_explain(runner) -> None:
    result = run(runner, "doctor", "--explain", "sig007")
    assert result.exit_code == 0
    assert result.stdout.startswith("SIG007 (error)")
    assert "The fix:" in result.stdout
    bad = run(runner, "doctor", "--explain", "SIG999")
    assert bad.exit_code == 2 and "unknown check ID" in bad.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ignore", "SIG999"], "unknown check ID(s) SIG999"),  # unknown ID
        (["--select", "nope"], "unknown check ID(s) NOPE"),  # not an ID
        (["--ckan-version", "two"], "is not a release like 2.11"),  # bad release
        (["--fail-level", "fatal"], "fatal"),  # bad level
    ],
)
def test_cli_usage_errors(runner, args: list[str], fragment: str, tmp_path: Path,
                          monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, "doctor", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_bundled_example_passes_in_ci_mode(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run(runner, "doctor", "--fail-level", "warning")
    assert result.exit_code == 0, result.stdout


@settings(max_examples=1000, deadline=None)
@given(st.sets(st.text("abc_", min_size=1, max_size=5), max_size=12),
       st.text("abc_", min_size=1, max_size=6))
def test_name_index_agrees_with_brute_force(names: set[str], query: str) -> None:
    from ckansig.doctor.names import NameIndex as _NameIndex
    from ckansig.doctor.names import one_edit as _one_edit

    expected = sorted(n for n in names if n != query and _one_edit(query, n))
    assert _NameIndex(names).one_edit_from(query) == (expected[0] if expected else None)


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [("user_created", "user_craeted", True),  # swap
     ("user_created", "user_create", True),  # deletion
     ("user_created", "user_createdd", True),  # insertion
     ("user_created", "user_crexted", True),  # substitution
     ("user_created", "user_created", False),  # the same
     ("user_created", "usr_craeted", False)],  # two edits
)
def test_one_edit(a: str, b: str, close: bool) -> None:
    from ckansig.doctor.names import one_edit as _one_edit

    assert _one_edit(a, b) is close


def test_each_bad_comment_is_named(doctor) -> None:
    report = doctor("fx_doc:BadComments")
    messages = sorted(p.message for p in report.active())
    assert len(messages) == 3
    assert any("SIG099, which no check has" in m for m in messages)
    assert any("ignored, see ticket 42" in m for m in messages)
    assert any("ignore[SIG016'" in m for m in messages)


def test_a_malformed_comment_silences_nothing(doctor) -> None:
    report = doctor("fx_doc:HalfSilenced")
    assert ids(report) == ["SIG016", "SIG017"]
    assert report.summary()["silenced"] == 0


@given(ids_=st.lists(st.sampled_from(sorted(CHECKS)), min_size=1, max_size=3),
       spaces=st.sampled_from(["", " ", "  "]))
@settings(max_examples=100, deadline=None)
def test_well_formed_comments_silence_their_ids(ids_: list[str], spaces: str) -> None:
    from ckansig.doctor.comments import parse_comment

    line = f"def r(sender, **kwargs):{spaces}#{spaces} ckansig: ignore[{', '.join(ids_)}]"
    comment = parse_comment(line, CHECKS)
    assert comment is not None and comment.problem is None and comment.ids == set(ids_)
    bare = parse_comment("x = 1  # ckansig: ignore", CHECKS)
    assert bare is not None and bare.ids == {"*"}


@given(tail=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
@settings(max_examples=300, deadline=None)
def test_anything_else_after_the_mark_silences_nothing(tail: str) -> None:
    """Whatever follows '# ckansig:', unless it is exactly a suppression, silences nothing."""
    import re

    from ckansig.doctor.comments import parse_comment

    comment = parse_comment(f"x = 1  # ckansig:{tail}", CHECKS)
    assert comment is not None
    exact = re.fullmatch(r"[ \t]*ignore(\[[ \t]*SIG\d{3}([ \t]*,[ \t]*SIG\d{3})*[ \t]*\])?"
                         r"[ \t]*[\r\n]*", tail)
    if exact is None:
        assert comment.ids == frozenset() and comment.problem is not None


@pytest.mark.parametrize(("extra", "key"), [
    ('[ckansig.doctor]\nselect = ["SIG060"]\n', "ckansig.doctor.select"),
    ('[ckansig.doctor]\nignore = ["SIG014", "SIG099"]\n', "ckansig.doctor.ignore"),
    ('[ckansig.doctor.per_receiver]\n"fx_*" = ["SIG777"]\n', "ckansig.doctor.per_receiver.fx_*"),
])
def test_unknown_ids_in_the_config_are_config_errors(runner, write_config, extra: str,
                                                     key: str) -> None:
    """A typo in select must not make doctor check nothing and pass."""
    config = write_config("fx_good:GoodPlugin", extra=extra)
    result = runner.invoke(main, ["doctor", "-c", str(config)])
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert f"{key}: " in line and "no check has this ID" in line
    assert "plugins.toml:5: " in line  # the line that names the unknown ID


def test_doctor_with_nothing_to_check_fails(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["doctor"])
    assert result.exit_code == 2
    assert "nothing to check" in result.stderr
    (tmp_path / "plugins.toml").write_text("[ckansig]\nplugins = []\n")
    assert runner.invoke(main, ["doctor"]).exit_code == 2
    assert runner.invoke(main, ["list"]).exit_code == 0  # list still shows the core signals


def test_a_base_without_inherit_does_not_make_an_isignal_plugin_on_ckan_2_10(doctor) -> None:
    (problem,) = doctor("fx_doc:InheritsISignal", ckan_version=(2, 10)).active()
    assert problem.id == "SIG019" and "inherit=True" in problem.message
    assert doctor("fx_doc:InheritsWithInherit", ckan_version=(2, 10)).active() == []


def test_a_receiver_made_anew_by_each_call_is_named(doctor) -> None:
    (problem,) = doctor("fx_doc:NewEachCall").active()
    assert problem.plugin == "fx_doc:NewEachCall" and "<lambda>" in problem.message
    assert problem.signal == "user_created"


def test_a_blueprint_type_ckan_never_sends_gets_a_did_you_mean(doctor) -> None:
    (problem,) = doctor("fx_doc:BlueprintTypo").active()
    assert "did you mean 'dataset'?" in problem.message
