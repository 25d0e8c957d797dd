"""A tiny program that sends signals, for ``ckansig trace`` (the docs run it):
a receiver of ``prog_a`` sends ``prog_b``; a receiver of ``prog_b`` listens
for another sender only, so it is not called."""

from blinker import Namespace

signals = Namespace()
prog_a = signals.signal("prog_a")
prog_b = signals.signal("prog_b")


def on_a(sender):
    prog_b.send(sender)
    return "a"


def on_b(sender):
    return "b"


def only_for_z(sender):
    return "z"


prog_a.connect(on_a)
prog_b.connect(on_b)
prog_b.connect(only_for_z, sender="z")

if __name__ == "__main__":
    prog_a.send("x")
