"""What is known about CKAN's core signals: arguments, docs and releases.

The data comes from CKAN's guide to signals and from the source of the CKAN
releases that send them (2.10, 2.11, 2.12). It is plain data; nothing here
touches blinker.
"""


from typing import NamedTuple

#: The CKAN releases ckansig knows about, oldest first.
KNOWN_RELEASES: tuple[tuple[int, int], ...] = ((2, 10), (2, 11), (2, 12))


class CoreSignal(NamedTuple):
    """One core signal: where it is registered and what CKAN sends with it.

    ``args`` follows the guide's notation: the first name is the sender, the
    rest are keyword arguments. ``since`` is the first CKAN release that sends
    the signal, or ``None`` when no release ever sent it; ``replacement`` names
    the signal to use instead in that case.
    """

    attribute: str
    name: str
    namespace: str
    args: tuple[str, ...]
    doc: str
    since: tuple[int, int] | None
    replacement: str | None = None
    sender_kind: str = "str"

    @property
    def sender(self) -> str:
        """The documented name of the sender (the first argument)."""
        return self.args[0]

    @property
    def kwargs(self) -> tuple[str, ...]:
        """The documented keyword arguments (every argument but the sender)."""
        return self.args[1:]

    def sent_in(self, release: tuple[int, int]) -> bool:
        """Whether CKAN ``release`` (major, minor) sends this signal."""
        return self.since is not None and release >= self.since

    @property
    def releases(self) -> str:
        """A short human description of the releases that send the signal."""
        if self.since is None:
            return "guide only, never sent by a release"
        return f"CKAN {self.since[0]}.{self.since[1]}+"


_V210 = (2, 10)
_V211 = (2, 11)

#: Every core signal, in the order of CKAN's guide. ``sender_kind`` tells what
#: the sender is: "str" (compared by value), "app" (the Flask application).
CORE_SIGNALS: tuple[CoreSignal, ...] = (
    CoreSignal(
        "request_started", "request_started", "ckan", ("app",),
        "Sent when the request context is set up, before any request processing happens.",
        _V210, sender_kind="app",
    ),
    CoreSignal(
        "request_finished", "request_finished", "ckan", ("app", "response"),
        "Sent right before the response is sent to the client.",
        _V210, sender_kind="app",
    ),
    CoreSignal(
        "register_blueprint", "register_blueprint", "ckan", ("blueprint_type", "blueprint"),
        "Sent when a dataset/resource/group/organization blueprint is about to be registered.",
        _V210,
    ),
    CoreSignal(
        "resource_download", "resource_download", "ckan", ("resource_id",),
        "Sent just before a file from an uploaded resource is sent to the user.",
        _V210,
    ),
    CoreSignal(
        "successful_login", "successful_login", "ckan", ("username",),
        "Sent after a successful login attempt (in the guide; no CKAN release sends it).",
        None, replacement="user_logged_in",
    ),
    CoreSignal(
        "user_logged_in", "logged_in", "ckan", ("app", "user"),
        "Sent when a user has logged in (forwarded from Flask-Login).",
        _V211, sender_kind="app",
    ),
    CoreSignal(
        "user_logged_out", "logged_out", "ckan", ("app", "user"),
        "Sent when a user has logged out (forwarded from Flask-Login).",
        _V211, sender_kind="app",
    ),
    CoreSignal(
        "failed_login", "failed_login", "ckan", ("username",),
        "Sent after a failed login attempt.",
        _V210,
    ),
    CoreSignal(
        "user_created", "user_created", "ckan", ("username", "user"),
        "Sent when a new user is created.",
        _V210,
    ),
    CoreSignal(
        "request_password_reset", "request_password_reset", "ckan", ("username", "user"),
        "Sent just after the mail with a password reset link is sent to the user.",
        _V210,
    ),
    CoreSignal(
        "perform_password_reset", "perform_password_reset", "ckan", ("username", "user"),
        "Sent when a user submits the password reset form with a new password.",
        _V210,
    ),
    CoreSignal(
        "action_succeeded", "action_succeed", "ckan",
        ("action_name", "context", "data_dict", "result"),
        "Sent when an action finished without an exception.",
        _V210,
    ),
    CoreSignal(
        "datastore_upsert", "datastore_upsert", "ckanext", ("resource_id", "records"),
        "Sent after datastore records are inserted or updated via datastore_upsert.",
        _V210,
    ),
    CoreSignal(
        "datastore_delete", "datastore_delete", "ckanext",
        ("resource_id", "result", "data_dict"),
        "Sent after a successful call to datastore_delete.",
        _V210,
    ),
)

_BY_KEY: dict[tuple[str, str], CoreSignal] = {(s.namespace, s.name): s for s in CORE_SIGNALS}


def core_signal(namespace: str | None, name: str) -> CoreSignal | None:
    """The catalogue entry of the signal registered as ``name`` in ``namespace``."""
    if namespace is None:
        return None
    return _BY_KEY.get((namespace, name))

