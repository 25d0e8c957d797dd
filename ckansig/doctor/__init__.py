"""Doctor: check every subscription against CKAN's rules and blinker's behaviour.

- :mod:`~ckansig.doctor.catalogue`: the checks' IDs, severities and explanations;
- :mod:`~ckansig.doctor.checks`, :mod:`~ckansig.doctor.signal_checks` and
  :mod:`~ckansig.doctor.plugin_checks`: one registered function per ID;
- :mod:`~ckansig.doctor.context`: how checks are registered, run and report;
- :mod:`~ckansig.doctor.diagnosis`: :func:`diagnose`, the entry point;
- :mod:`~ckansig.doctor.problems`: the :class:`Problem` and :class:`Report` records;
- :mod:`~ckansig.doctor.silencing`: ``--ignore``, config and comments;
- :mod:`~ckansig.doctor.source`: what a receiver's source does with its arguments;
- :mod:`~ckansig.doctor.names`: "did you mean" in linear time.
"""

from __future__ import annotations

from ckansig.doctor.catalogue import CHECKS, Check, Severity
from ckansig.doctor.diagnosis import default_ckan_version, diagnose
from ckansig.doctor.problems import Problem, Report

__all__ = ["CHECKS", "Check", "Problem", "Report", "Severity", "default_ckan_version",
           "diagnose"]
