"""The embedded stack: Echomate on one machine with no AWS account (never shipped to Lambda)."""


def import_chalicelib() -> None:
    """Import every chalicelib module now, as the cloud's cold start does not.

    A module first imported by a request writes its ``.pyc`` into the project folder, and
    `chalice local`'s reloader (it polls every file under the project) takes a new file for an
    edit: it restarts the server and drops the requests in flight. app.py names its modules
    lazily (chalicelib/lazy.py), so on the embedded stack they are imported up front: by the
    stack before `chalice local` starts (its event pump runs the app too), and by each `chalice
    local` process as it starts. (No chalicelib module reads a setting at import: importing
    them before chalice applies the stage's variables is safe; app.py is left to chalice.)"""
    import importlib
    import pkgutil

    import chalicelib

    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
