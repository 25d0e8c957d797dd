"""The parsers of user input (--kw, --kwargs, --sender), redaction and snapshots."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckansig.catalog import core_signal
from ckansig.errors import UsageProblem
from ckansig.firing.arguments import (
    AttrDict,
    build_call,
    parse_json_object,
    parse_kw,
    parse_value,
    to_objects,
)
from ckansig.firing.snapshots import Snapshot
from ckansig.values import Redactor, is_secret_key

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=3", ("n", 3)),
        ('s="3"', ("s", "3")),
        ("name=bob", ("name", "bob")),
        ('u={"name": "bob"}', ("u", {"name": "bob"})),
        ("e=", ("e", "")),
        ("eq=a=b", ("eq", "a=b")),  # only the first = splits
        ("x=NaN", ("x", "NaN")),  # not JSON: stays text
        ("t=true", ("t", True)),
        ("z=null", ("z", None)),
    ],
)
def test_parse_kw_examples(text: str, expected: tuple[str, object]) -> None:
    assert parse_kw(text) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_parse_kw_gives_a_pair_or_a_clean_error(text: str) -> None:
    try:
        key, _ = parse_kw(text)
    except UsageProblem as exc:
        assert exc.param == "--kw"
        assert "\n" not in exc.message
    else:
        assert key.isidentifier()
        assert text.startswith(key + "=")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), json_values)
def test_parse_kw_round_trips_json(key: str, value: object) -> None:
    if key in ("sender",) or key in {"and", "or", "if", "in", "is", "as", "def", "del", "for"}:
        return
    try:
        parsed = parse_kw(f"{key}={json.dumps(value)}")
    except UsageProblem:
        return  # a Python keyword
    assert parsed == (key, value)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_parse_json_object_gives_a_dict_or_a_clean_error(text: str) -> None:
    try:
        value = parse_json_object(text)
    except UsageProblem as exc:
        assert exc.param == "--kwargs"
        assert "\n" not in exc.message
    else:
        assert isinstance(value, dict)
        assert all(k.isidentifier() for k in value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), json_values,
                       max_size=4))
def test_parse_json_object_round_trips(value: dict[str, object]) -> None:
    try:
        assert parse_json_object(json.dumps(value)) == value
    except UsageProblem as exc:
        assert "identifier" in exc.message  # a Python keyword such as "if"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_value_never_raises(text: str) -> None:
    parse_value(text)


@pytest.mark.parametrize("depth", [101, 600, 990, 100_000])
def test_deeply_nested_json_is_a_usage_error(depth: int) -> None:
    """Too deep to show is refused at the boundary, with the parser's own
    RecursionError (500-990 levels crashed fire before) or without it."""
    nested = "[" * depth + "]" * depth
    for parse in (parse_json_object, parse_value):
        with pytest.raises(UsageProblem, match="nested deeper than 100 levels"):
            parse(nested if parse is parse_value else '{"a": ' + nested + "}")
    if depth > 10_000:  # unclosed, but the parser hits Python's recursion limit first
        with pytest.raises(UsageProblem, match="nested deeper"):
            parse_value("[" * depth)


def test_json_nested_as_deep_as_shown_is_taken() -> None:
    assert parse_value("[" * 100 + "]" * 100) is not None


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.integers(), lambda c: st.lists(c, max_size=2) | st.dictionaries(
    st.text(max_size=3), c, max_size=2), max_leaves=30))
def test_parsed_values_are_never_too_deep_to_show(value: object) -> None:
    from ckansig.values import MAX_DEPTH

    text = json.dumps(value)
    from ckansig.firing.arguments import _depth

    if _depth(value) <= MAX_DEPTH:
        assert parse_value(text) == value


def test_build_call_takes_the_documented_sender() -> None:
    core = core_signal("ckan", "user_created")
    assert build_call(core, kw=[("username", "bob"), ("user", {})]) == ("bob", {"user": {}})
    with pytest.raises(UsageProblem, match="not both"):
        build_call(core, sender="al", sender_given=True, kw=[("username", "bob")])
    assert build_call(None, kw=[("username", "bob")]) == (None, {"username": "bob"})
    with pytest.raises(UsageProblem, match="given twice"):
        build_call(None, kw=[("a", 1), ("a", 2)])


def test_attr_dict() -> None:
    user = to_objects({"name": "bob", "groups": [{"id": 1}]})
    assert isinstance(user, AttrDict)
    assert user.name == user["name"] == "bob"
    assert user.groups[0].id == 1
    with pytest.raises(AttributeError):
        _ = user.missing


@pytest.mark.parametrize(
    ("key", "secret"),
    [("password", True), ("user_password", True), ("token", True), ("api_key", True),
     ("apikey", True), ("Authorization", True), ("key", True), ("private_key", True),
     ("secret", True),
     # word parts, in any case: camelCase, kebab, dots
     ("privateKey", True), ("accessKey", True), ("dbPass", True), ("pwd", True),
     ("passphrase", True), ("session_cookie", True), ("auth", True), ("credentials", True),
     ("X-Auth-Token", True), ("PASSWORD", True), ("smtp.password", True), ("pw", True),
     # near-misses: the secret word is only part of another word
     ("keyboard", False), ("monkey", False), ("name", False), ("passenger", False),
     ("author", False), ("key_name", False), ("compass", False), ("", False), (3, False)],
)
def test_secret_keys(key: object, secret: bool) -> None:
    assert is_secret_key(key) is secret


SECRET_WORDS = ["password", "pass", "pwd", "token", "secret", "auth", "passphrase",
                "credentials", "cookie", "key"]


@settings(max_examples=300, deadline=None)
@given(prefix=st.lists(st.sampled_from(["db", "user", "smtp", "new", "old", "x"]), max_size=3),
       word=st.sampled_from(SECRET_WORDS),
       separator=st.sampled_from(["_", "-", ".", "", " "]),
       style=st.sampled_from([str.lower, str.upper, str.capitalize]))
def test_a_secret_word_as_the_last_part_of_a_key_is_secret(prefix, word, separator,
                                                            style) -> None:
    parts = [style(p) for p in [*prefix, word]]
    if separator == "" and style is not str.capitalize:
        parts = [parts[0], *(p.capitalize() for p in parts[1:])]  # camelCase
    assert is_secret_key(separator.join(parts))


def test_a_short_secret_is_hidden_where_it_is_the_whole_value() -> None:
    """A 2-character password echoed back is hidden; the same letters inside
    other words are not blanked."""
    kwargs = {"pw": "ab", "note": "abc"}
    redactor = Redactor(kwargs)
    assert redactor.value(kwargs) == {"pw": "***", "note": "abc"}
    assert redactor.text("ab") == "***" and redactor.text("cab") == "cab"
    assert redactor.value(["ab", "xab"]) == ["***", "xab"]
    from ckansig.values import safe_repr

    assert safe_repr("ab", redactor) == "'***'"  # a receiver returning it
    assert safe_repr("abc", redactor) == "'abc'"
    assert Redactor({"pin": 7, "code": 12}).value(7) == 7  # "pin" is no secret word
    assert Redactor({"pwd": 12}).value(12) == "***"


def test_redactor_hides_values_and_echoes() -> None:
    kwargs = {"user": {"name": "bob", "password": "hunter22"}, "token": "abc123"}
    redactor = Redactor(kwargs)
    assert redactor.value(kwargs) == {"user": {"name": "bob", "password": "***"},
                                      "token": "***"}
    assert redactor.text("pw hunter22 and abc123") == "pw *** and ***"
    assert kwargs["user"]["password"] == "hunter22"  # never mutates
    off = Redactor(kwargs, enabled=False)
    assert off.value(kwargs) == kwargs and off.text("hunter22") == "hunter22"


def test_numeric_secrets_are_hidden_wherever_they_repeat() -> None:
    redactor = Redactor({"api_key": 123456, "n": 3})
    assert redactor.value({"api_key": 123456, "n": 3}) == {"api_key": "***", "n": 3}
    assert redactor.value(123456) == "***"  # the same number as a sender, say
    assert redactor.value([123456.0, 12345, True]) == [123456.0, 12345, True]
    assert redactor.text("id 123456") == "id ***"


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_redacted_output_never_contains_a_secret(value: object) -> None:
    kwargs = {"password": "s3cr3t-value", "data": value}
    redactor = Redactor(kwargs)
    assert "s3cr3t-value" not in json.dumps(redactor.value(kwargs))


def test_snapshot_names_changed_paths() -> None:
    kwargs = {"user": {"name": "bob", "tags": [1, 2]}, "n": 1}
    snap = Snapshot(None, kwargs)
    assert not snap.changed(None, kwargs)
    kwargs["user"]["tags"][1] = 3
    kwargs["user"]["extra"] = True
    assert snap.changed(None, kwargs)
    assert snap.changes(None, kwargs) == ["user.extra", "user.tags[1]"]


def test_snapshot_skips_values_it_cannot_compare() -> None:
    class Opaque:
        pass

    snap = Snapshot(None, {"obj": Opaque(), "n": [1]})
    assert snap.unchecked == ("obj",)
    assert snap.keys == ("n",)


def test_flags_under_secret_looking_keys_are_shown() -> None:
    """CKAN's context has ignore_auth=True: a boolean (or None) hides nothing."""
    redactor = Redactor({"ignore_auth": True, "token": None, "auth": "s3cret"})
    assert redactor.value({"ignore_auth": True, "token": None, "auth": "s3cret"}) == {
        "ignore_auth": True, "token": None, "auth": "***"}


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


def _cyclic() -> dict:
    loop: dict = {"name": "loop"}
    loop["self"] = loop
    return loop


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(("value", "marker"), [
    (_cyclic(), "a cycle"),
    (_deep(5_000), "nested deeper than 100 levels"),
    (10 ** 5000, "an int of"),
    (_Unprintable(), "repr() raised RuntimeError"),
    ({"password": 10 ** 5000}, None),  # hidden, not shown
], ids=["cycle", "deep", "huge-int", "raising-repr", "huge-secret"])
def test_values_that_cannot_be_shown_become_markers(value: object, marker: str | None) -> None:
    from ckansig.values import jsonable, safe_repr

    for redactor in (Redactor({"password": "hunter22", "data": value}), Redactor({})):
        document = json.dumps(jsonable(value, redactor))  # never raises
        shown = safe_repr(value, redactor)
        if marker is not None:
            assert marker in document + shown
        redactor.value(value)  # never raises either


def _naive_text(secrets: list[str], text: str) -> str:
    """The reference: every secret of 3+ characters replaced, longest first
    (then alphabetically), then each shorter one where it stands as a word."""
    import re

    if text in secrets:
        return "***"
    for secret in sorted((s for s in set(secrets) if len(s) >= 3), key=lambda s: (-len(s), s)):
        text = text.replace(secret, "***")
    short = sorted((s for s in set(secrets) if len(s) < 3 and s.strip()),
                   key=lambda s: (-len(s), s))
    if short:
        words = "|".join(re.escape(s) for s in short)
        text = re.sub(f"(?<![0-9A-Za-z])(?:{words})(?![0-9A-Za-z])", "***", text)
    return text


_ALPHABET = "abcAB01-_ é"


@settings(max_examples=300, deadline=None)
@given(secrets=st.lists(st.text(_ALPHABET, min_size=1, max_size=14), min_size=17, max_size=60),
       pieces=st.lists(st.one_of(st.text(_ALPHABET, max_size=12), st.integers(0, 59)),
                       max_size=12))
def test_many_secrets_are_found_in_any_text_as_with_few(secrets: list[str],
                                                        pieces: list) -> None:
    # past 16 secrets the redactor looks them up by pieces of the text: the
    # result must be the one the plain search (each secret in turn) gives
    text = "".join(p if isinstance(p, str) else secrets[p % len(secrets)] for p in pieces)
    redactor = Redactor({"passwords": secrets})
    assert redactor.text(text) == _naive_text(secrets, text)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                              st.floats(allow_nan=False)),
                    lambda inner: st.one_of(st.lists(inner, max_size=4),
                                            st.dictionaries(st.text(max_size=4), inner,
                                                            max_size=4)),
                    max_leaves=30))
def test_snapshot_copies_compare_equal_and_are_independent(value) -> None:
    snapshot = Snapshot(None, {"value": value})
    assert snapshot.keys == ("value",)
    assert snapshot.kwargs == {"value": value}
    assert not snapshot.changed(None, {"value": value})
    if isinstance(value, (list, dict)) and value:
        assert snapshot.kwargs["value"] is not value


@given(st.text(alphabet="ab1-= .:", min_size=1, max_size=2).filter(str.strip),
       st.text(alphabet="ab1-= .:xyz", max_size=30), st.text(alphabet="ab1-= .:xyz", max_size=30))
def test_a_short_secret_never_stands_as_a_word_of_its_own(secret: str, before: str,
                                                          after: str) -> None:
    # every place the input has the secret as a word of its own is hidden (and
    # only those: "*" is not in the alphabet, so the stars count the hidden ones)
    import re

    text = f"{before} {secret} {after}"
    standing = re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")
    places = standing.findall(text)
    assert places  # the one put there, at least
    shown = Redactor({"password": secret}).text(text)
    assert shown.count("*") == 3 * len(places), shown
    assert shown.replace("***", "") == standing.sub("", text)


@pytest.mark.parametrize(("secret", "text", "shown"), [
    ("ab", "pw=ab", "pw=***"),
    ("ab", "table", "table"),  # inside a word: not a secret's echo
    ("x", "x = 1", "*** = 1"),
    ("ab", "ab-cd is ab", "*** is ***"),  # a longer secret holding the short one first
])
def test_short_secrets_echoed_back_are_hidden(secret: str, text: str, shown: str) -> None:
    redactor = Redactor({"password": secret, "token": "ab-cd"})
    assert redactor.text(text) == shown
