"""``python -m ckansig``, and the ``ckansig`` console script (``run``)."""

from __future__ import annotations


def run() -> None:
    """Start the CLI with the cyclic garbage collector paused.

    Start-up imports click, ckansig and every plugin: thousands of long-lived
    objects whose allocation would trigger full collections that find nothing
    to free. The collector is switched back on as soon as the plugins are
    loaded (``cli.load_registry``), before any receiver runs.

    Commands that run no plugin code after loading (``list``, ``doctor``) set
    ``quick_exit``; the objects are then frozen on the way out, so that the
    interpreter's final full collection does not walk them all again (a few
    milliseconds, a tenth of the run). ``fire`` never sets it: receivers may
    leave cyclic garbage whose finalizers must run.
    """
    import gc

    gc.disable()
    from ckansig.cli import main

    state = {"gc_paused": True, "quick_exit": False}
    try:
        main(prog_name="ckansig", obj=state)
    finally:
        if state["quick_exit"]:
            gc.freeze()


if __name__ == "__main__":
    run()
