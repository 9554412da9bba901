"""Build the C core. Everything else is declared in pyproject.toml.

Three products, each from its own explicit list of sources (no globbing, so a file
never lands in the wrong product by its name):
  hotpath._core    the capture extension: src/hotpath/_core/common/ (module, compat,
                   frames, clock, tables, threads, monitoring, sampler) and one folder per
                   subsystem: func/ (function profiler), line/ (line profiler), mem/
                   (memory tracker)
  hotpath._timing  the benchmark timing loop and calibration (src/hotpath/_timing/)
  hotpath._preload the memory tracker's LD_PRELOAD shim (src/hotpath/_preload/): no Python
                   in it, built as an Extension only to get a shared library installed in
                   the package (hotpath/_preload*.so); it is never imported (see
                   docs/memory.md)
Includes name their folder ("common/compat.h", "_preload/preload.h") against the include
dirs below; tools/check-c-layers.py keeps the folders from including each other in a circle.
Only PyInit_* is exported (-fvisibility=hidden). Warnings are errors in the project's own
builds (the Makefile and CI set HOTPATH_STRICT=1), never in a user's `pip install`, where a
newer compiler's new warning must not stop the build.
"""
import glob
import os

from setuptools import Extension, setup

CORE = "src/hotpath/_core"
TIMING = "src/hotpath/_timing"
PRELOAD = "src/hotpath/_preload"
extra_compile = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                 "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                 "-fvisibility=hidden"]
if os.environ.get("HOTPATH_STRICT"):
    extra_compile.append("-Werror")
extra_link = []
if os.environ.get("HOTPATH_ASAN"):
    extra_compile += ["-fsanitize=address", "-fno-omit-frame-pointer", "-O1", "-g"]
    extra_link += ["-fsanitize=address"]


def sources(folder, names):
    return [f"{folder}/{n}" for n in names]


def headers(*folders):
    return sorted(h for f in folders for h in glob.glob(f"{f}/*.h"))


core_sources = (
    sources(f"{CORE}/common", ["module.c", "clock.c", "frames.c", "table.c", "newthreads.c",
                               "saferead.c", "stackpeek.c", "monitoring.c", "sampler.c", "gilstate.c"])
    + sources(f"{CORE}/func", ["funcprof.c", "funcreg.c", "calltree.c", "treestats.c", "floor.c",
                               "source_legacy.c", "source_monitoring.c"])
    + sources(f"{CORE}/line", ["lineprof.c", "linestore.c", "lines_legacy.c",
                               "lines_monitoring.c", "linesampler.c"])
    + sources(f"{CORE}/mem", ["memtrack.c", "memstate.c", "memaccount.c", "memblocks.c",
                              "memcaller.c", "memforget.c", "memhooks.c", "memmaps.c",
                              "memshape.c", "memstacks.c", "memtimeline.c", "memtrace.c"])
    + sources(f"{CORE}/sample", ["sampleprof.c", "sampletree.c"])
)
timing_sources = sources(TIMING, ["timing.c", "counters.c"])
preload_sources = sources(PRELOAD, ["preload.c"])
include_dirs = [CORE, "src/hotpath"]   # "common/x.h", "func/x.h", ...; "_preload/preload.h"

ext_modules = [
    Extension("hotpath._core", core_sources, include_dirs=include_dirs,
              depends=headers(*(f"{CORE}/{d}" for d in ("common", "func", "line", "mem",
                                                                "sample")),
                              PRELOAD),
              extra_compile_args=extra_compile, extra_link_args=extra_link,
              libraries=["m", "dl"]),
    Extension("hotpath._timing", timing_sources, include_dirs=include_dirs,
              depends=headers(TIMING, f"{CORE}/common"),
              extra_compile_args=extra_compile, extra_link_args=extra_link),
    Extension("hotpath._preload", preload_sources, include_dirs=include_dirs,
              depends=headers(PRELOAD), libraries=["dl"],
              extra_compile_args=extra_compile, extra_link_args=extra_link),
]

# A sanitizer build keeps its objects apart, so a normal build never links them.
options = {"build": {"build_base": "build/asan"}} if os.environ.get("HOTPATH_ASAN") else {}
setup(ext_modules=ext_modules, options=options)
