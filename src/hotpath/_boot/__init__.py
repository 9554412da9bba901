"""The start-up hook of followed child processes (``sitecustomize.py`` here).

``hotpath run`` puts this directory first on the ``PYTHONPATH`` of the program it runs,
so every Python interpreter the program starts (``subprocess`` with ``sys.executable``,
``multiprocessing``'s spawn and forkserver) imports ``sitecustomize`` from here at
start-up; it starts recording (``hotpath.session.children``) and then runs the
``sitecustomize`` it hides, if there is one. Never imported as a package.
"""
