"""Build the ETL function's Lambda layer: pyarrow for python3.12 on x86_64.

    python -m chalice_app.infra.build_layer [--out build/layer] [--no-strip]

The wheels pinned (with hashes) in layer-requirements.txt are downloaded once into build/wheels/
(manylinux_2_28 / manylinux2014, cp312), unpacked under ``python/`` (where Lambda puts a layer on
sys.path), stripped of what the ETL never loads (tests, C++ headers and sources, Cython files,
Flight, Substrait's Python module, the S3/GCS/Azure/HDFS/ORC file systems, Parquet encryption) and
zipped deterministically (sorted entries, fixed dates) so an unchanged layer is never re-uploaded.

Every removal rule must match something: a pyarrow upgrade that renames a library fails the build
instead of silently shipping it. Every shared library a kept module links against must be kept.
A rebuild is skipped when the inputs (requirements, rules, this file) have not changed.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REQUIREMENTS = HERE / "layer-requirements.txt"
# What both functions need that the Lambda runtime lacks (orjson): small, so it goes in deployment.zip.
FUNCTION_REQUIREMENTS = HERE / "function-requirements.txt"
DEFAULT_OUT = ROOT / "build" / "layer"
DEFAULT_WHEELS = ROOT / "build" / "wheels"
LAYER_ZIP = "tgpipe-etl-layer.zip"
MANIFEST = "manifest.json"
PYTHON_VERSION = "3.12"
# The python3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 and older wheels load.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
# Lambda's limit for a function and its layers together, unzipped.
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# (pattern under python/, why it can go). The ETL uses pyarrow's arrays, schema and ParquetWriter;
# it reads and writes objects through etl.storage (boto3), never through pyarrow's file systems.
REMOVE: tuple[tuple[str, str], ...] = (
    ("pyarrow/tests/*", "pyarrow's own test suite"),
    ("pyarrow/include/*", "C++ headers"),
    ("pyarrow/includes/*", "Cython declarations"),
    ("pyarrow/src/*", "C++ sources of the Python bindings"),
    ("pyarrow/*.pxd", "Cython declarations"),
    ("pyarrow/*.pyx", "Cython sources"),
    ("pyarrow/*.pxi", "Cython includes"),
    ("pyarrow/_flight.*.so", "Arrow Flight RPC"),
    ("pyarrow/flight.py", "Arrow Flight RPC"),
    ("pyarrow/libarrow_flight.so.*", "Arrow Flight RPC"),
    ("pyarrow/libarrow_python_flight.so*", "Arrow Flight RPC"),
    ("pyarrow/_substrait.*.so", "Substrait query plans (libarrow_substrait stays: lib links it)"),
    ("pyarrow/substrait.py", "Substrait query plans"),
    ("pyarrow/_s3fs.*.so", "pyarrow's S3 file system (the ETL uses boto3)"),
    ("pyarrow/libarrow_s3.so.*", "pyarrow's S3 file system (the ETL uses boto3)"),
    ("pyarrow/_gcsfs.*.so", "Google Cloud Storage file system"),
    ("pyarrow/_azurefs.*.so", "Azure file system"),
    ("pyarrow/_hdfs.*.so", "HDFS file system"),
    ("pyarrow/_orc.*.so", "ORC format"),
    ("pyarrow/_dataset_orc.*.so", "ORC format"),
    ("pyarrow/orc.py", "ORC format"),
    ("pyarrow/_parquet_encryption.*.so", "Parquet modular encryption (the bucket encrypts at rest)"),
    ("pyarrow/_dataset_parquet_encryption.*.so", "Parquet modular encryption"),
    ("pyarrow/libarrow_python_parquet_encryption.so*", "Parquet modular encryption"),
    ("pyarrow/_pyarrow_cpp_tests.*.so", "pyarrow's C++ tests"),
    # The wheel stores libarrow_python three times (zip has no symlinks); modules load .so.<ABI>.
    ("pyarrow/libarrow_python.so", "duplicate of libarrow_python.so.<ABI> (link-time name)"),
    ("pyarrow/libarrow_python.so.*.*.*", "duplicate of libarrow_python.so.<ABI> (full version)"),
    ("*.dist-info/RECORD", "lists files that were removed above"),
)


class LayerError(RuntimeError):
    """The layer cannot be built as specified."""


@dataclass(frozen=True)
class Layer:
    """A built layer: the zip, what it holds, and how big it is."""

    zip_path: Path
    packages: dict[str, str]
    unzipped_bytes: int
    zip_bytes: int
    files: int
    stripped: bool
    fingerprint: str

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["zip_path"] = str(self.zip_path)
        return data


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    sha256: str


def read_requirements(path: Path = REQUIREMENTS) -> list[Requirement]:
    """``name==version --hash=sha256:...`` lines (comments and blank lines ignored)."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        spec, sep, digest = text.partition(" --hash=sha256:")
        name, eq, version = spec.strip().partition("==")
        if not (sep and eq and name and version and len(digest.strip()) == 64):
            raise LayerError(f"{path.name}:{number}: expected 'name==version --hash=sha256:<64 hex>'")
        found.append(Requirement(name.strip().lower(), version.strip(), digest.strip()))
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_wheel(wheels: Path, req: Requirement) -> Path | None:
    prefix = f"{req.name.replace('-', '_')}-{req.version}-"
    for wheel in sorted(wheels.glob(f"{prefix}*.whl")):
        if _sha256(wheel) == req.sha256:
            return wheel
    return None


def download(
    reqs: list[Requirement], wheels: Path = DEFAULT_WHEELS, requirements: Path = REQUIREMENTS
) -> list[Path]:
    """The pinned wheels of ``requirements``, from build/wheels/ when there (hash-checked), else PyPI."""
    wheels.mkdir(parents=True, exist_ok=True)
    missing = [req for req in reqs if _cached_wheel(wheels, req) is None]
    if missing:
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            *platforms, "--python-version", PYTHON_VERSION, "--implementation", "cp",
            "--abi", "cp" + PYTHON_VERSION.replace(".", ""), "--require-hashes",
            "--dest", str(wheels), "--requirement", str(requirements),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise LayerError(f"pip download failed:\n{result.stdout}{result.stderr}")
    paths = []
    for req in reqs:
        wheel = _cached_wheel(wheels, req)
        if wheel is None:
            raise LayerError(f"no wheel of {req.name}=={req.version} with the pinned sha256 in {wheels}")
        paths.append(wheel)
    return paths


def _removed(relative: str) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern, _ in REMOVE)


def _unpack(wheels: list[Path], target: Path) -> None:
    """Unzip the wheels under ``target`` without the files the rules remove; every rule must bite."""
    used: set[str] = set()
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                hits = [pattern for pattern, _ in REMOVE if fnmatch.fnmatchcase(info.filename, pattern)]
                if hits:
                    used.update(hits)
                    continue
                destination = target / info.filename
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, destination.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                if info.external_attr >> 16 & 0o111:
                    destination.chmod(0o755)
    unused = [pattern for pattern, _ in REMOVE if pattern not in used]
    if unused:
        raise LayerError(
            f"removal rules matched nothing (review REMOVE for these wheels): {', '.join(unused)}"
        )


def _shared_objects(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and (p.suffix == ".so" or ".so." in p.name))


def elf_needed(path: Path) -> list[str]:
    """The DT_NEEDED entries (linked libraries) of a 64-bit little-endian ELF shared object."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise LayerError(f"{path.name} is not a 64-bit little-endian ELF file")
    shoff, shentsize, shnum = (
        struct.unpack_from("<Q", data, 0x28)[0],
        *struct.unpack_from("<HH", data, 0x3A),
    )
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    needed = []
    for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[link][4]
        for entry in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, entry)
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strtab + value)
                needed.append(data[strtab + value : end].decode())
    return needed


def check_links(root: Path) -> None:
    """Every library a kept shared object links against and that pyarrow bundles is still there."""
    bundled = {"libarrow", "libparquet"}
    present = {p.name for p in _shared_objects(root)}
    missing = sorted(
        f"{so.relative_to(root)} needs {lib}"
        for so in _shared_objects(root)
        for lib in elf_needed(so)
        if lib.split(".so")[0].split("_")[0] in bundled and lib not in present
    )
    if missing:
        raise LayerError("the layer lost libraries its modules link against: " + "; ".join(missing))


def _strip(root: Path) -> bool:
    """``strip --strip-unneeded`` on every shared object when binutils is there (symbols only)."""
    tool = shutil.which("strip")
    if tool is None:
        return False
    objects = [str(p) for p in _shared_objects(root)]
    subprocess.run([tool, "--strip-unneeded", *objects], check=True, capture_output=True)  # noqa: S603
    return True


def _zip(source: Path, destination: Path) -> None:
    """A reproducible zip of ``source``'s contents: sorted, fixed dates and modes."""
    tmp = destination.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), _ZIP_DATE)
            info.external_attr = ((0o755 if os.access(path, os.X_OK) else 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, archive.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(destination)


def _fingerprint(strip: bool) -> str:
    digest = hashlib.sha256()
    for part in (REQUIREMENTS.read_bytes(), Path(__file__).read_bytes(), str(strip).encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def build(out: Path = DEFAULT_OUT, wheels: Path = DEFAULT_WHEELS, *, strip: bool = True) -> Layer:
    """Build (or reuse) ``out/tgpipe-etl-layer.zip`` and its manifest; return what it holds."""
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(strip)
    manifest = out / MANIFEST
    zip_path = out / LAYER_ZIP
    if manifest.exists() and zip_path.exists():
        cached = json.loads(manifest.read_text())
        if cached.get("fingerprint") == fingerprint and cached.get("zip_bytes") == zip_path.stat().st_size:
            return Layer(**{**cached, "zip_path": zip_path})
    reqs = read_requirements()
    paths = download(reqs, wheels)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        python = Path(tmp) / "python"
        _unpack(paths, python)
        check_links(python)
        stripped = _strip(python) if strip else False
        unzipped = sum(p.stat().st_size for p in python.rglob("*") if p.is_file())
        files = sum(1 for p in python.rglob("*") if p.is_file())
        if unzipped > LAMBDA_UNZIPPED_LIMIT // 2:
            raise LayerError(f"the layer unzips to {unzipped:,} bytes: keep it well under Lambda's 250 MB")
        _zip(Path(tmp), zip_path)
    layer = Layer(
        zip_path=zip_path,
        packages={req.name: req.version for req in reqs},
        unzipped_bytes=unzipped,
        zip_bytes=zip_path.stat().st_size,
        files=files,
        stripped=stripped,
        fingerprint=fingerprint,
    )
    manifest.write_text(json.dumps(layer.as_dict(), indent=2, sort_keys=True) + "\n")
    return layer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default build/layer)")
    parser.add_argument("--wheels", type=Path, default=DEFAULT_WHEELS, help="wheel cache (build/wheels)")
    parser.add_argument("--no-strip", action="store_true", help="keep the shared objects' symbol tables")
    args = parser.parse_args(argv)
    try:
        layer = build(args.out, args.wheels, strip=not args.no_strip)
    except LayerError as exc:
        sys.stderr.write(f"build_layer: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(layer.as_dict(), sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
