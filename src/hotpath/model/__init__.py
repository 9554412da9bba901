"""The profile model: typed shapes every reporter reads, one module per kind of data.

* ``calltree`` — function profiles: the function table and each thread's calling-context
  tree (``Profile``, ``ThreadProfile`` — columns of ints per tree, ``Node`` / ``NodeRef``
  for per-node access, ``Function``, ``FunctionStats``). A
  ``Profile`` is the one in-memory shape of every mode: line and memory data travel in
  its ``extra`` sections, read through the models below.
* ``lines`` — line timings (``extra["lines"]``, docs/lines.md): ``LineData``.
* ``memory`` — allocations (``extra["memory"]``, docs/memory.md): ``MemoryView``.
* ``paths`` — which source files are the user's, the standard library's or a package's.

This is the bottom layer: it imports nothing else of hotpath's (see tests/test_layers.py).
"""
from __future__ import annotations

from .calltree import (COLUMNS, ROOT, TRUNCATED_NAME, Function, FunctionStats, Node, NodeList,
                       NodeRef, Profile, ThreadProfile)

__all__ = ["COLUMNS", "ROOT", "TRUNCATED_NAME", "Function", "FunctionStats", "Node",
           "NodeList", "NodeRef", "Profile", "ThreadProfile"]
