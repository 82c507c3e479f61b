"""Bytecode in the Lambda package that `chalice deploy` and `chalice package` build.

Chalice zips sources only, and Lambda's /var/task is read-only: every cold start compiles every
module it imports (app, chalicelib, chalice, pydantic, ...) and throws the result away. Without
`.pyc` `import app` took 415 ms from the zip, 179 ms with them (issue 13).

This runs chalice's own CLI with one addition: after chalice's packager has written (or reused
from its cache) a deployment zip, every `.py` in it gets its `__pycache__/<name>.cpython-3XX.pyc`,
compiled by this interpreter, which must be the deployment runtime's (chalice takes the runtime
from the interpreter that runs it, so they agree unless someone forces another runtime: then it
refuses). Any `__pycache__` chalice copied from the source tree (timestamp-based, from whatever
interpreter last ran the tests) is dropped.

Invalidation mode: **checked hash** (PEP 552). A timestamp-based `.pyc` is compared with the
source's mtime and size, and zip stores mtimes at 2-second resolution in local time: after
unzipping, Lambda would reject them (no gain) or, worse, accept one whose source changed within
the same 2 s and size. An unchecked-hash `.pyc` is never compared with its source: a stale one
(a source replaced in the zip, an edit in the console) would shadow the change. A checked-hash
`.pyc` carries the SipHash of its source; the import system hashes the source (microseconds per
file: bench/cold_start.py shows the cost) and compiles the source when they differ, so a stale
`.pyc` can never run. Modules are still imported only when first needed: this changes what an
import costs, not what is imported.

    python -m infra.bytecode deploy --stage prod         # `chalice deploy --stage prod`, with .pyc
    python -m infra.bytecode package --pkg-format terraform --stage prod build/package
    python -m infra.bytecode check build/package/deployment.zip   # every .py has a fresh .pyc
"""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the .pyc entries are the same bytes on every build
_CHECKED_HASH_FLAGS = 0b11  # PEP 552: hash-based, check_source
_MARKER = f"echomate: checked-hash .pyc for {sys.implementation.cache_tag}".encode()


class RuntimeMismatch(SystemExit):
    """The package is for another Python than the one that would compile its bytecode."""


def pyc_name(source: str) -> str:
    """The zip path of the .pyc this interpreter imports for the zip path ``source``."""
    path = PurePosixPath(source)
    tag = sys.implementation.cache_tag
    return str(path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc")


def add_bytecode(package: Path, python_version: str = RUNTIME) -> int:
    """Give every .py in the zip ``package`` its checked-hash .pyc (in place); returns how many
    were compiled, 0 when the package already had them all (a reused cached zip)."""
    if python_version != RUNTIME:
        raise RuntimeMismatch(
            f"the package is for {python_version}, this interpreter is {RUNTIME}: run chalice "
            f"with the runtime's interpreter so the bytecode matches it"
        )
    with zipfile.ZipFile(package) as archive:
        if archive.comment == _MARKER:
            return 0  # compiled here already (chalice reused its cached zip); `check` verifies

        # chalice copies the source tree's timestamp .pyc (chalicelib/__pycache__): never ship
        stale = [n for n in archive.namelist() if "__pycache__/" in n]
        sources = {n: archive.read(n) for n in archive.namelist() if n.endswith(".py")}
    compiled = {}
    with tempfile.TemporaryDirectory(prefix="echomate-bytecode-") as tmp:
        for name, source in sources.items():
            pyc = _compile(name, source, Path(tmp))
            if pyc is not None:  # None: not valid Python 3 here (a template, a py2 file)
                compiled[pyc_name(name)] = pyc
    if stale:
        _rewrite_without(package, set(stale))
    # appending leaves chalice's entries as they are (no recompression of ~77 MB)
    with zipfile.ZipFile(package, "a", zipfile.ZIP_DEFLATED) as out:
        out.comment = _MARKER
        for name, pyc in compiled.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, pyc)
    return len(compiled)


def _compile(name: str, source: bytes, tmp: Path) -> bytes | None:
    """The checked-hash .pyc of ``source``; tracebacks name the file where Lambda has it."""
    source_file, pyc_file = tmp / "source.py", tmp / "source.pyc"
    source_file.write_bytes(source)
    try:
        py_compile.compile(
            str(source_file),
            cfile=str(pyc_file),
            dfile=f"/var/task/{name}",
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
    except py_compile.PyCompileError:
        return None
    return pyc_file.read_bytes()


def _rewrite_without(package: Path, dropped: set[str]) -> None:
    rebuilt = package.with_suffix(".rebuilt.zip")
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(rebuilt, "w") as out:
        for entry in source.infolist():
            if entry.filename not in dropped:
                out.writestr(entry, source.read(entry))  # keeps each entry's compression
    shutil.move(rebuilt, package)


def check_package(package: Path) -> list[str]:
    """What is wrong with the package's bytecode: a .py without its .pyc, or a .pyc that is
    not checked-hash, not for this runtime, or not of its source. Empty when all is right."""
    problems = []
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            pyc = pyc_name(name)
            if pyc not in names:
                if _compiles(archive.read(name)):
                    problems.append(f"{name}: no {pyc}")
                continue
            header = archive.read(pyc)[:16]
            if header[:4] != importlib.util.MAGIC_NUMBER:
                problems.append(f"{pyc}: compiled for another Python")
            elif int.from_bytes(header[4:8], "little") != _CHECKED_HASH_FLAGS:
                problems.append(f"{pyc}: not a checked-hash .pyc")
            elif header[8:16] != importlib.util.source_hash(archive.read(name)):
                problems.append(f"{pyc}: compiled from another version of {name}")
    return problems


def _compiles(source: bytes) -> bool:
    try:
        compile(source, "<check>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def install() -> None:
    """Make chalice's packagers add bytecode to every deployment zip they return."""
    from chalice.deploy import packager

    for cls in (
        packager.LambdaDeploymentPackager,
        packager.AppOnlyDeploymentPackager,
        packager.LayerDeploymentPackager,
    ):
        create = cls.create_deployment_package
        if getattr(create, "adds_bytecode", False):
            continue

        def with_bytecode(self: Any, project_dir: str, python_version: str, _c=create) -> str:
            filename: str = _c(self, project_dir, python_version)
            compiled = add_bytecode(Path(filename), python_version)
            if compiled:
                self._ui.write(f"Added {compiled} checked-hash .pyc for {python_version}.\n")
            return filename

        with_bytecode.adds_bytecode = True  # type: ignore[attr-defined]
        cls.create_deployment_package = with_bytecode  # type: ignore[method-assign]


def main(args: list[str]) -> int:
    """`check <zip>`, or a chalice command run with bytecode added to its packages."""
    if args[:1] == ["check"]:
        problems = [p for zip_path in args[1:] for p in check_package(Path(zip_path))]
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} bytecode problems in {', '.join(args[1:])}")
        return 1 if problems else 0
    from chalice.cli import cli

    install()
    return int(cli.main(args=args, obj={}, prog_name="chalice", standalone_mode=True) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
