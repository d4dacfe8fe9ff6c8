"""MicroVerse: a toolkit for micro-world simulation.

One folder per capability; dependencies point one way:
``bench`` (tasks, rubrics, scoring) depends on nothing of ours; ``judge`` depends on
``bench``; ``store`` is the only place that speaks SQL; ``report``, ``build``,
``data``, ``model``, ``human`` and ``web`` sit above; ``cli`` only wires.
"""

__version__ = "0.1.0"
