"""The Python faces of the C capture, one module per mode.

* ``functions`` — ``Profile`` (a drop-in for ``cProfile.Profile``) and the conversion of
  its C snapshot into ``hotpath.model.Profile``.
* ``lines`` — ``LineProfiler`` (line_profiler's API) and the ``@hotpath.profile`` decorator.
* ``memory`` — ``MemoryProfiler`` and ``memit``; ``memlines`` — memory line by line.

All share one run/runctx/runcall/context-manager face (``_runmixin.RunMixin``). This
layer imports only ``report`` and ``model`` (see tests/test_layers.py); running a whole
program with them is ``hotpath.session``'s work.
"""
