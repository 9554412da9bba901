"""hotpath: profile this interpreter as a followed child of ``hotpath run``.

Imported by ``site`` at start-up because ``hotpath run`` put this directory on the
PYTHONPATH of its program. It takes the directory off ``sys.path`` again (the program
sees the path it would have seen), runs the ``sitecustomize`` module this one hides (if
any), and, when ``HOTPATH_FOLLOW`` describes a run of the same Python version, starts
recording this process (``hotpath.session.children.start_child``). Never raises: a
child that cannot be followed runs unprofiled, with one warning line.
"""


def _hotpath_boot() -> None:
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))

    def ours(p: str) -> bool:
        try:
            return bool(p) and os.path.samefile(p, here)
        except OSError:
            return False
    sys.path[:] = [p for p in sys.path if not ours(p)]
    # the sitecustomize this one hides
    from importlib.machinery import PathFinder
    spec = PathFinder.find_spec("sitecustomize", sys.path)
    if spec is not None and spec.loader is not None:
        from importlib.util import module_from_spec
        mod = module_from_spec(spec)
        sys.modules["sitecustomize"] = mod
        try:
            spec.loader.exec_module(mod)
        except Exception:
            import traceback
            sys.stderr.write("Error in sitecustomize; set PYTHONVERBOSE for traceback:\n")
            traceback.print_exc()
    config = os.environ.get("HOTPATH_FOLLOW")
    if not config:
        return
    try:
        import json
        cfg = json.loads(config)
        if cfg.get("python") != list(sys.version_info[:2]) or \
                cfg.get("implementation") != sys.implementation.name:
            return                      # another interpreter: not followed
        root = cfg.get("root")
        added = root and root not in sys.path
        if added:
            sys.path.append(root)       # hotpath itself, where the parent found it
        try:
            from hotpath.session.children import start_child
        finally:
            if added:
                sys.path.remove(root)
        start_child(cfg)
    except Exception as e:              # never the program's problem
        sys.stderr.write(f"hotpath: warning: this child process is not profiled: "
                         f"{type(e).__name__}: {e}\n")


_hotpath_boot()
del _hotpath_boot
