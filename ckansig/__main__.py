"""``python -m ckansig``, and the ``ckansig`` console script (``run``)."""

from __future__ import annotations


def run() -> None:
    """Start the CLI with the cyclic garbage collector paused.

    Start-up imports click, ckansig and every plugin: thousands of long-lived
    objects whose allocation would trigger full collections that find nothing
    to free. ``cli.support.load_registry`` freezes those objects and switches the
    collector back on as soon as the plugins are loaded, before any receiver
    runs.
    """
    import gc

    gc.disable()
    from ckansig.cli import main

    main(prog_name="ckansig", obj={"gc_paused": True})


if __name__ == "__main__":
    run()
