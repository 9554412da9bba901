"""Build the C core. Everything else is declared in pyproject.toml.

Two extension modules, each from its own sources under src/hotpath/_core/, and one
plain shared library:
  hotpath._core    capture: clock, function profiler, tables (every *.c not named timing*
                   or preload*)
  hotpath._timing  the benchmark timing loop and calibration (timing*.c)
  hotpath._preload the memory tracker's LD_PRELOAD shim (preload*.c): no Python in it,
                   built as an Extension only to get a shared library installed in the
                   package; it is never imported (see docs/memory.md)
Only PyInit_* is exported (-fvisibility=hidden). Warnings are errors in the project's own
builds (the Makefile and CI set HOTPATH_STRICT=1), never in a user's `pip install`, where a
newer compiler's new warning must not stop the build.
"""
import glob
import os

from setuptools import Extension, setup

CORE = "src/hotpath/_core"
extra_compile = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                 "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                 "-fvisibility=hidden"]
if os.environ.get("HOTPATH_STRICT"):
    extra_compile.append("-Werror")
extra_link = []
if os.environ.get("HOTPATH_ASAN"):
    extra_compile += ["-fsanitize=address", "-fno-omit-frame-pointer", "-O1", "-g"]
    extra_link += ["-fsanitize=address"]

core_sources = sorted(p for p in glob.glob(f"{CORE}/*.c")
                      if not os.path.basename(p).startswith(("timing", "preload")))
preload_sources = sorted(glob.glob(f"{CORE}/preload*.c"))
timing_sources = sorted(glob.glob(f"{CORE}/timing*.c"))

ext_modules = [Extension("hotpath._core", core_sources, depends=glob.glob(f"{CORE}/*.h"),
                         extra_compile_args=extra_compile, extra_link_args=extra_link,
                         libraries=["m", "dl"])]
if timing_sources:
    ext_modules.append(Extension("hotpath._timing", timing_sources,
                                 depends=glob.glob(f"{CORE}/*.h"),
                                 extra_compile_args=extra_compile, extra_link_args=extra_link))
if preload_sources:
    ext_modules.append(Extension("hotpath._preload", preload_sources,
                                 depends=[f"{CORE}/preload.h"], libraries=["dl"],
                                 extra_compile_args=extra_compile, extra_link_args=extra_link))

# A sanitizer build keeps its objects apart, so a normal build never links them.
options = {"build": {"build_base": "build/asan"}} if os.environ.get("HOTPATH_ASAN") else {}
setup(ext_modules=ext_modules, options=options)
