"""infra/bytecode.py: every .py of a deployment zip gets a checked-hash .pyc for the runtime,
which Python loads, and which can never shadow a changed source."""

import subprocess
import sys
import zipfile

import pytest

from infra import bytecode


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def _unpack(package, into):
    with zipfile.ZipFile(package) as archive:
        archive.extractall(into)
    return into


def _import_verbose(root, module):
    """Import ``module`` as Lambda does (-S: only the task root; -B: nothing written)."""
    return subprocess.run(
        [sys.executable, "-S", "-B", "-v", "-c", f"import {module}; print({module}.VALUE)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture
def package(tmp_path):
    return _zip(
        tmp_path / "deployment.zip",
        {
            "app.py": "import chalicelib.feed\nVALUE = chalicelib.feed.VALUE\n",
            "chalicelib/__init__.py": "",
            "chalicelib/feed.py": "VALUE = 'original'\n",
            # what chalice copies from a developer's tree: a timestamp .pyc of another source
            "chalicelib/__pycache__/feed.cpython-311.pyc": b"stale",
            "vendor_template.py": "print 'python 2'\n",  # not Python 3: left as it is
        },
    )


def test_every_module_gets_a_checked_hash_pyc_for_this_runtime(package):
    assert bytecode.check_package(package)  # chalice's zip as built: problems
    assert bytecode.add_bytecode(package) == 3
    assert bytecode.check_package(package) == []
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        pyc = archive.read(bytecode.pyc_name("chalicelib/feed.py"))
    assert names.count(bytecode.pyc_name("chalicelib/feed.py")) == 1  # the stale one is gone
    assert pyc != b"stale"
    assert bytecode.add_bytecode(package) == 0  # a reused cached zip is left as it is


def test_python_loads_the_bytecode(package, tmp_path):
    bytecode.add_bytecode(package)
    root = _unpack(package, tmp_path / "task")
    run = _import_verbose(root, "app")
    assert run.stdout.strip() == "original"
    assert "code object from '" in run.stderr and "feed.cpython" in run.stderr


def test_a_changed_source_is_never_shadowed_by_its_pyc(package, tmp_path):
    bytecode.add_bytecode(package)
    root = _unpack(package, tmp_path / "task")
    (root / "chalicelib" / "feed.py").write_text("VALUE = 'changed'\n")  # same size or not
    assert _import_verbose(root, "app").stdout.strip() == "changed"
    edited = tmp_path / "edited.zip"  # the source replaced in the zip: the check names the .pyc
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(edited, "w") as out:
        for entry in source.infolist():
            replaced = entry.filename == "chalicelib/feed.py"
            out.writestr(entry, b"VALUE = 'edited'\n" if replaced else source.read(entry))
    assert any("another version" in p for p in bytecode.check_package(edited))


def test_a_package_for_another_runtime_is_refused(package):
    with pytest.raises(bytecode.RuntimeMismatch, match=r"python3\.99"):
        bytecode.add_bytecode(package, "python3.99")
