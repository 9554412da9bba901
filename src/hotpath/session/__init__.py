"""Running a whole program under one or more profiling modes.

* ``program`` — run a script / ``-m module`` / ``-c code`` exactly as ``python`` would
  (same argv, ``__main__``, streams, exit status, signals), with start/save/show hooks.
* ``modes`` — the ``Mode`` interface (install → start → finish into the model) and
  ``Session``, which runs a program under a list of modes and writes one profile file.
* ``functions``, ``lines``, ``memory`` — one mode each; modes compose (functions + lines)
  through ``Mode``, not through special cases.
* ``meta`` — the run's metadata, written once for every mode.

This layer sits between ``cli`` (which parses arguments) and ``capture``.
"""
