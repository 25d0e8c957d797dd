"""``python -m ckansig``, and the ``ckansig`` console script (``run``)."""

from __future__ import annotations


def run() -> None:
    """Start the CLI with the cyclic garbage collector paused for start-up
    (see :mod:`ckansig.cli.gc_policy`; results are the same without it)."""
    import gc

    gc.disable()  # before the imports below: they are most of start-up
    from ckansig.cli import main
    from ckansig.cli.gc_policy import POLICY

    POLICY.pause()
    main(prog_name="ckansig")


if __name__ == "__main__":
    run()
