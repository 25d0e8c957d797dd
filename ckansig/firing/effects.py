"""What a guarded run does outside the database, and who did it.

:func:`culprit` names the receiver running now (and the call site in its
code); :func:`watch_effects` notes, per receiver, the mail sent, the rq jobs
enqueued and the Redis keys written, and :func:`guarding` the files written
(through an audit hook) while a :class:`~ckansig.firing.guard.Guard` lasts;
:func:`remove_jobs` takes a rolled-back run's jobs off their queues.
"""

from __future__ import annotations

import os
import signal as _signals
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ckansig.isolation import on_interrupt

if TYPE_CHECKING:
    from ckansig.firing.guard import Guard

__all__ = ["Effect", "culprit", "guarding", "remove_jobs", "stop_watching", "watch_effects"]


@dataclass
class Effect:
    """A change outside the database (mail, a file, Redis, an rq job) made
    while a receiver ran: ``key`` is (send id, receiver position)."""

    kind: str
    detail: str
    receiver: str | None
    key: tuple[int, int] | None
    site: str | None
    undone: str | None = None

    def json(self) -> dict[str, Any]:
        return {"kind": self.kind, "detail": self.detail, "receiver": self.receiver,
                "send": self.key[0] if self.key else None,
                "position": self.key[1] if self.key else None,
                "site": self.site, "undone": self.undone}


_SKIPPED_MODULES = ("sqlalchemy", "psycopg2", "psycopg", "ckan.model", "rq", "redis")
_roots: dict[tuple[bool, ...], tuple[str, ...]] = {}


def _skipped_roots() -> tuple[str, ...]:
    """The folders whose code is never the culprit: ckansig, the standard
    library, SQLAlchemy, the driver, CKAN's model, rq and redis (those imported)."""
    present = tuple(name in sys.modules for name in _SKIPPED_MODULES)
    found = _roots.get(present)
    if found is not None:
        return found
    roots = {os.path.dirname(os.path.dirname(__file__))}  # ckansig itself
    for path in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")):
        if path:
            roots.add(path)
    for name in _SKIPPED_MODULES:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file:
            roots.add(os.path.dirname(file))
    found = _roots[present] = tuple(sorted(os.path.join(root, "") for root in roots))
    return found


def culprit(depth: int = 1) -> tuple[str | None, tuple[int, int] | None, str | None]:
    """The receiver running now (its name, and (send id, position)), and the
    innermost call site outside ckansig, the standard library, SQLAlchemy, the
    driver and CKAN's model: ``file:line``."""
    from ckansig.loading.describing import describe
    from ckansig.watching.recorder import current_send, running_position, running_receiver

    name: str | None = None
    key: tuple[int, int] | None = None
    rec = current_send()
    if rec is not None:
        index, receiver = running_position(rec, 1)  # the walk goes outward from here
        if receiver is None:  # fire knows the position only: find it on the stack
            receiver = running_receiver(rec, 1)
        if receiver is not None:
            name = describe(receiver).name
        if index is not None:
            key = (rec.id, index)
    skipped = _skipped_roots()
    frame = sys._getframe(depth)
    site = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(skipped) and not filename.startswith("<"):
            site = f"{filename}:{frame.f_lineno}"
            break
        frame = frame.f_back  # type: ignore[assignment]
    return name, key, site



def watch_effects(guard: Guard) -> None:
    """While ``guard`` lasts: mail sent, rq jobs enqueued and Redis keys written
    are noted as :class:`Effect` of the receiver running (and file writes,
    through the audit hook of :func:`guarding`)."""
    import smtplib


    def sendmail(original: Any) -> Any:
        def wrapper(smtp: Any, from_addr: Any, to_addrs: Any, *args: Any, **kw: Any) -> Any:
            to = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
            guard.effect("mail", f"to {', '.join(map(str, to))}")
            return original(smtp, from_addr, to_addrs, *args, **kw)
        return wrapper

    guard.patch(smtplib.SMTP, "sendmail", sendmail)
    try:
        import rq
    except ImportError:
        pass
    else:
        def enqueue(original: Any) -> Any:
            def wrapper(queue: Any, job: Any, *args: Any, **kw: Any) -> Any:
                guard.inside_rq += 1  # rq's own Redis writes are the job's
                try:
                    done = original(queue, job, *args, **kw)
                finally:
                    guard.inside_rq -= 1
                found = guard.effect("job", f"rq job {job.id} ({job.func_name}) on "
                                     f"queue {queue.name}")
                guard.jobs.append((job, found))
                return done
            return wrapper

        guard.patch(rq.Queue, "enqueue_job", enqueue)
    try:
        import redis
    except ImportError:
        pass
    else:
        def execute(original: Any) -> Any:
            def wrapper(client: Any, *args: Any, **kw: Any) -> Any:
                if not guard.inside_rq and args and _redis_write(args):
                    key = f" {_text(args[1])}" if len(args) > 1 else ""
                    guard.effect("redis", f"{_text(args[0]).upper()}{key}")
                return original(client, *args, **kw)
            return wrapper

        guard.patch(redis.Redis, "execute_command", execute)
    _AUDIT[0] = guard


def remove_jobs(guard: Guard) -> None:
    """Remove from their queues the rq jobs a rolled-back run enqueued."""
    for job, found in guard.jobs:
        try:
            job.delete(remove_from_queue=True)
        except Exception as exc:
            found.undone = f"could not be removed: {type(exc).__name__}"
        else:
            found.undone = "removed from the queue"



_REDIS_WRITES = frozenset({"SET", "SETEX", "PSETEX", "SETNX", "MSET", "MSETNX", "APPEND",
    "INCR", "INCRBY", "DECR", "DECRBY", "INCRBYFLOAT", "DEL", "UNLINK", "EXPIRE",
    "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "RENAME", "RENAMENX", "HSET", "HSETNX",
    "HMSET", "HDEL", "HINCRBY", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP",
    "LREM", "LSET", "LTRIM", "SADD", "SREM", "SPOP", "SMOVE", "ZADD", "ZREM", "ZINCRBY",
    "XADD", "PUBLISH", "FLUSHDB", "FLUSHALL"})

def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _redis_write(args: tuple[Any, ...]) -> bool:
    """Whether a Redis command writes, and to a key outside rq's own ("rq:"):
    rq's writes are shown as its jobs."""
    return _text(args[0]).upper() in _REDIS_WRITES and not (
        len(args) > 1 and _text(args[1]).startswith("rq:"))


# the guard whose run the audit hook reports file writes to (one at a time)
_AUDIT: list[Guard | None] = [None]
_HOOKED = [False]
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    guard = _AUDIT[0]
    if guard is None or event != "open":
        return
    path, mode, flags = (*args, None, None, None)[:3]
    writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
    if not writes or not isinstance(path, (str, bytes)) or isinstance(path, int):
        return
    shown = os.fsdecode(path)
    if shown.endswith((".pyc", ".pyc.tmp")) or "__pycache__" in shown:
        return
    _AUDIT[0] = None  # culprit() may open files (linecache): not ours to record
    try:
        name, key, site = culprit(2)
        if name is not None:
            guard.verdict.effects.append(Effect("file", f"wrote {shown}", name, key, site))
    finally:
        _AUDIT[0] = guard


def stop_watching() -> None:
    """File writes are no longer noted (the guard's run is over)."""
    _AUDIT[0] = None


@contextmanager
def guarding(guard: Guard) -> Iterator[Guard]:
    """While the guard's run lasts: file writes are audited, and SIGTERM is a
    Ctrl-C (so the transaction is rolled back and the exit code is 130)."""
    if not _HOOKED[0]:
        sys.addaudithook(_audit)
        _HOOKED[0] = True
    previous = None
    main = threading.current_thread() is threading.main_thread()
    if main and _signals.getsignal(_signals.SIGTERM) == _signals.SIG_DFL:
        previous = _signals.signal(_signals.SIGTERM, on_interrupt)
    try:
        yield guard
    finally:
        if previous is not None:
            _signals.signal(_signals.SIGTERM, previous)
