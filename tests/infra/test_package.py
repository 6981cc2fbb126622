"""Packaging for Lambda: the ETL's pyarrow layer, `chalice package` offline, and both functions
importing and running in a clean interpreter that has only what the python3.12 runtime provides."""

from __future__ import annotations

import base64
import fnmatch
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import boto3
import pytest

from chalice_app.infra import build_layer, package
from tests.helpers import CHAT_IDS, SECRET, update_bytes
from tests.infra.aws_package import ROOT, layer, packaged, scratch

# What the python3.12 Lambda runtime has besides the standard library (the AWS SDK for Python).
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
MB = 1024 * 1024


@pytest.fixture(scope="module")
def lambda_runtime() -> Path:
    """A folder holding only the SDK the Lambda runtime ships (links into this venv's site-packages)."""
    site = Path(boto3.__file__).resolve().parent.parent
    folder = scratch("lambda-runtime")
    for name in LAMBDA_RUNTIME_PACKAGES:
        link = folder / name
        if not link.exists():
            link.symlink_to(site / name)
    return folder


@pytest.fixture(scope="module")
def task_root() -> Path:
    """/var/task: the packaged deployment.zip of prod, unzipped."""
    folder = scratch("var-task")
    with zipfile.ZipFile(packaged("prod").deployment_zip) as archive:
        archive.extractall(folder)
    return folder


@pytest.fixture(scope="module")
def layer_root() -> Path:
    """/opt: the ETL layer, unzipped (Lambda puts /opt/python on sys.path)."""
    folder = scratch("opt")
    with zipfile.ZipFile(layer().zip_path) as archive:
        archive.extractall(folder)
    return folder


def run_clean(paths: list[Path], code: str, env: dict[str, str], cwd: Path) -> dict[str, object]:
    """Run ``code`` in python3.12 -I -S (no site-packages) with exactly ``paths`` on sys.path; the code
    prints one JSON object as its last line, which is returned."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + code],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **env},
        cwd=cwd,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_layer_holds_only_the_etl_dependencies_for_python312_x86_64() -> None:
    """Under python/: pyarrow as pinned, cp312 x86_64 modules, well under 250 MB unzipped."""
    built = layer()
    with zipfile.ZipFile(built.zip_path) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
    assert {name.split("/")[0] for name in names} == {"python"}
    assert {name.split("/")[1] for name in names} == {"pyarrow", "pyarrow-26.0.1.dist-info"}
    extensions = {Path(name).name.split(".", 1)[1] for name in names if ".cpython-" in name}
    assert extensions == {"cpython-312-x86_64-linux-gnu.so"}
    assert built.packages == {"pyarrow": "26.0.1"}
    assert (built.unzipped_bytes, built.zip_bytes, built.files) == (
        unzipped,
        built.zip_path.stat().st_size,
        len(names),
    )
    assert unzipped < 100 * MB  # pyarrow's wheel unpacks to 171 MB; Lambda allows 250 MB in all


def test_the_layer_is_stripped_of_what_the_etl_never_loads() -> None:
    """No tests, headers, Cython files, Flight, Substrait module, pyarrow file systems or duplicate libs."""
    with zipfile.ZipFile(layer().zip_path) as archive:
        names = [name.removeprefix("python/") for name in archive.namelist()]
    rules = build_layer.REMOVE
    assert [name for name in names if any(fnmatch.fnmatchcase(name, p) for p, _ in rules)] == []
    libraries = sorted(Path(name).name for name in names if ".so." in Path(name).name)
    assert libraries == [
        "libarrow.so.2600",
        "libarrow_acero.so.2600",
        "libarrow_compute.so.2600",
        "libarrow_dataset.so.2600",
        "libarrow_python.so.2600",
        "libarrow_substrait.so.2600",
        "libparquet.so.2600",
    ]


def test_the_layer_pins_exactly_the_etl_extra() -> None:
    """layer-requirements.txt holds the `etl` extra of pyproject.toml, each pin inside its range."""
    from packaging.requirements import Requirement

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["etl"]
    wanted = {Requirement(text).name: Requirement(text).specifier for text in extra}
    pinned = {req.name: req.version for req in build_layer.read_requirements()}
    assert set(pinned) == set(wanted)
    assert {name: version in wanted[name] for name, version in pinned.items()} == dict.fromkeys(pinned, True)


def test_the_functions_pin_what_they_import_and_lambda_lacks() -> None:
    """function-requirements.txt pins orjson, a base dependency of pyproject.toml, inside its range; the
    other base dependencies are the runtime's SDK or the CLI's, which no function imports."""
    from packaging.requirements import Requirement

    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {Requirement(text).name: Requirement(text).specifier for text in base}
    pins = build_layer.read_requirements(build_layer.FUNCTION_REQUIREMENTS)
    pinned = {req.name: req.version for req in pins}
    assert pinned == {"orjson": "3.13.0"}
    assert pinned["orjson"] in wanted["orjson"]
    assert set(wanted) - set(pinned) == {"boto3", "click", "ijson", "tqdm"}


def test_an_unchanged_layer_is_not_rebuilt() -> None:
    """A second build reuses the zip (same file, same fingerprint): reruns download and zip nothing."""
    first = layer()
    before = first.zip_path.stat().st_mtime_ns
    again = build_layer.build()
    assert (again.fingerprint, again.zip_path.stat().st_mtime_ns) == (first.fingerprint, before)


def test_a_removal_rule_that_matches_nothing_fails_the_build(tmp_path: Path) -> None:
    """A pyarrow upgrade that renames what a rule removes is reported, not silently shipped."""
    wheel = tmp_path / "pyarrow-0-cp312-cp312-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pyarrow/__init__.py", "")
        archive.writestr("pyarrow/tests/test_x.py", "")
    with pytest.raises(build_layer.LayerError) as caught:
        build_layer._unpack([wheel], tmp_path / "python")
    unused = [pattern for pattern, _ in build_layer.REMOVE if pattern != "pyarrow/tests/*"]
    assert str(caught.value) == (
        "removal rules matched nothing (review REMOVE for these wheels): " + ", ".join(unused)
    )


def test_a_module_whose_library_was_removed_fails_the_build(tmp_path: Path) -> None:
    """The link check reads each kept module's ELF needs: a missing Arrow library is named."""
    with zipfile.ZipFile(layer().zip_path) as archive:
        member = next(
            n for n in archive.namelist() if n.endswith("/_parquet.cpython-312-x86_64-linux-gnu.so")
        )
        (tmp_path / "pyarrow").mkdir()
        (tmp_path / "pyarrow" / "_parquet.cpython-312-x86_64-linux-gnu.so").write_bytes(archive.read(member))
    with pytest.raises(build_layer.LayerError) as caught:
        build_layer.check_links(tmp_path)
    needed = [
        "libarrow.so.2600",
        "libarrow_acero.so.2600",
        "libarrow_compute.so.2600",
        "libarrow_dataset.so.2600",
        "libarrow_python.so.2600",
        "libarrow_substrait.so.2600",
        "libparquet.so.2600",
    ]
    assert str(caught.value) == "the layer lost libraries its modules link against: " + "; ".join(
        f"pyarrow/_parquet.cpython-312-x86_64-linux-gnu.so needs {lib}" for lib in needed
    )


@pytest.mark.lambda_package
def test_chalice_package_runs_offline_and_the_zip_carries_no_pyarrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only AWS_DEFAULT_REGION set: the deployment zip is app.py, Chalice's runtime, etl/ and the pinned
    orjson wheel's files, small."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    result = package.package("dev", scratch("package-offline"), layer=layer())
    with zipfile.ZipFile(result.deployment_zip) as archive:
        names = sorted(archive.namelist())
    etl_modules = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "etl").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    (wheel,) = package.function_wheels()
    with zipfile.ZipFile(wheel) as archive:
        orjson_files = [name for name in archive.namelist() if not name.endswith("/")]
    assert {name.split("/")[0] for name in orjson_files} == {"orjson", "orjson-3.13.0.dist-info"}
    assert names == sorted(["app.py", "chalice/__init__.py", "chalice/app.py", *etl_modules, *orjson_files])
    assert result.sizes()["deployment_zip_bytes"] < 512 * 1024
    assert (
        json.loads(result.template.read_text())["Resources"]["EtlDaily"]["Properties"]["Runtime"]
        == "python3.12"
    )


@pytest.mark.lambda_package
def test_packaging_twice_gives_the_same_zip() -> None:
    """Sorted entries, fixed dates, no bytecode: unchanged code never looks like a new deployment."""
    first = packaged("prod").deployment_zip.read_bytes()
    again = package.package("prod", scratch("package-again"), layer=layer())
    assert again.deployment_zip.read_bytes() == first


@pytest.mark.lambda_package
def test_a_could_not_install_line_fails_packaging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chalice reports wheels it could not find and still exits 0; packaging must not go on."""
    fake = "print('Could not install dependencies:\\nnumpy==2.0\\nYou will have to build these yourself')"
    monkeypatch.setattr(package, "_chalice", lambda: [sys.executable, "-c", fake, "--"])
    with pytest.raises(package.PackageError) as caught:
        package.package("prod", scratch("package-failing"), layer=layer())
    assert str(caught.value) == (
        "chalice package failed (exit 0):\n"
        "Could not install dependencies:\nnumpy==2.0\nYou will have to build these yourself\n"
    )


@pytest.mark.lambda_package
def test_packaging_refuses_a_python_other_than_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chalice packages for the interpreter it runs on: anything but 3.12 is refused up front."""
    monkeypatch.setattr(package, "RUNTIME", (3, 11))
    with pytest.raises(package.PackageError) as caught:
        package.package("prod", scratch("package-wrong-python"))
    assert str(caught.value) == (
        "chalice package must run on Python 3.11 (the functions' runtime; Chalice packages for the "
        "interpreter it runs on), not 3.12: use .venv/bin/python (make venv)"
    )


def _api_gateway_event(body: bytes, secret: str) -> dict[str, object]:
    headers = {"content-type": "application/json", "x-telegram-bot-api-secret-token": secret}
    return {
        "resource": "/webhook",
        "path": "/webhook",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/webhook", "httpMethod": "POST", "stage": "api"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


@pytest.mark.lambda_package
def test_the_packaged_webhook_runs_with_only_what_lambda_provides(
    task_root: Path, lambda_runtime: Path, tmp_path: Path
) -> None:
    """/var/task + the runtime's SDK, no site-packages: the handler answers an API Gateway event, stores
    the update byte-exact, reads it with the zip's orjson, and never loads pyarrow or numpy."""
    body = update_bytes("message_text")
    code = f"""
import json, sys
import app
response = app.app({_api_gateway_event(body, SECRET)!r}, None)
print(json.dumps({{
    "status": response["statusCode"],
    "body": response["body"],
    "app": app.__file__,
    "chalice": sys.modules["chalice"].__file__,
    "heavy": sorted(m for m in sys.modules if m.split(".")[0] in ("pyarrow", "numpy")),
    "orjson": sys.modules["orjson"].__file__,
    "site": "site" in sys.modules,
}}))
"""
    env = {"TELEGRAM_CHAT_ID": CHAT_IDS, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TGPIPE_RAW_URI": str(tmp_path)}
    result = run_clean([task_root, lambda_runtime], code, env, cwd=tmp_path)
    assert result == {
        "status": 200,
        "body": "",
        "app": str(task_root / "app.py"),
        "chalice": str(task_root / "chalice" / "__init__.py"),
        "heavy": [],
        "orjson": str(task_root / "orjson" / "__init__.py"),
        "site": False,
    }
    stored = list(tmp_path.glob("context_date=*/*.json"))
    assert [p.read_bytes() for p in stored] == [body]


@pytest.mark.lambda_package
def test_the_packaged_etl_runs_with_the_layer(
    task_root: Path, layer_root: Path, lambda_runtime: Path, tmp_path: Path
) -> None:
    """/var/task + /opt/python + the SDK: the scheduled handler imports pyarrow from the layer and orjson
    from the zip, and writes the day's Parquet partition."""
    raw, enriched = tmp_path / "raw", tmp_path / "enriched"
    day = raw / "context_date=2026-10-05"
    day.mkdir(parents=True)
    for name in ("message_text", "message_photo", "edited_message"):
        update = update_bytes(name)
        (day / f"{json.loads(update)['update_id']}.json").write_bytes(update)
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-10-06T00:15:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/tgpipe-prod-EtlDailyEvent"],
        "detail": {},
    }
    code = f"""
import json, sys
import app
summary = app.etl_daily({event!r}, None)
import pyarrow.parquet as pq, orjson
table = pq.read_table({str(enriched / "messages" / "context_date=2026-10-05" / "part-00000.parquet")!r})
print(json.dumps({{
    "objects": summary["objects"], "rows": summary["rows"], "date": str(summary["date"]),
    "read_back": table.num_rows, "kinds": sorted(table.column("update_kind").to_pylist()),
    "pyarrow": sys.modules["pyarrow"].__file__, "orjson": orjson.__file__,
    "numpy": "numpy" in sys.modules,
}}))
"""
    env = {"TGPIPE_RAW_URI": str(raw), "TGPIPE_ENRICHED_URI": str(enriched), "TGPIPE_TIMEZONE": "UTC"}
    result = run_clean([task_root, layer_root / "python", lambda_runtime], code, env, cwd=tmp_path)
    assert result == {
        "objects": 3,
        "rows": {"messages": 3, "reactions": 0, "member_events": 0, "message_entities": 0},
        "date": "2026-10-05",
        "read_back": 3,
        "kinds": ["edited_message", "message", "message"],
        "pyarrow": str(layer_root / "python" / "pyarrow" / "__init__.py"),
        "orjson": str(task_root / "orjson" / "__init__.py"),
        "numpy": False,
    }


def test_the_layer_zip_depends_only_on_the_files(tmp_path: Path) -> None:
    """Same content, other timestamps and creation order: the same bytes, so an unchanged layer is never
    uploaded again as a new layer version."""
    zips = []
    for attempt, names in enumerate((["b.py", "a/x.so"], ["a/x.so", "b.py"])):
        root = tmp_path / f"tree{attempt}"
        for name in names:
            path = root / "python" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(name.encode())
            os.utime(path, (1_000_000 * (attempt + 1), 1_000_000 * (attempt + 1)))
        build_layer._zip(root, tmp_path / f"layer{attempt}.zip")
        zips.append((tmp_path / f"layer{attempt}.zip").read_bytes())
    assert zips[0] == zips[1]
    with zipfile.ZipFile(tmp_path / "layer0.zip") as archive:
        assert [(i.filename, i.date_time) for i in archive.infolist()] == [
            ("python/a/x.so", (1980, 1, 1, 0, 0, 0)),
            ("python/b.py", (1980, 1, 1, 0, 0, 0)),
        ]
