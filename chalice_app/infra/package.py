"""Package a stage for CloudFormation: `chalice package` with tgpipe's merge template, plus the layer.

    python -m chalice_app.infra.package --stage prod [--out build/package/prod] [--data-only]

Writes ``sam.json`` (the one template: Chalice's functions and API merged with data.yaml and
functions.yaml), ``deployment.zip`` (app.py, Chalice's runtime, the ``etl`` package, reached
through the chalice_app/vendor/etl symlink, and the pinned wheels of function-requirements.txt:
orjson; no pyarrow) and ``tgpipe-etl-layer.zip`` into the
output folder, ready for ``aws cloudformation package`` / ``deploy``. With ``--data-only`` it writes
``data.json`` instead: data.yaml alone, for the `chalice deploy` path (buckets and layer first).

Runs offline: the webhook's requirements.txt holds nothing Lambda lacks, so Chalice installs nothing;
only the first build downloads the pinned wheels (layer and functions) into build/wheels/. Must run
on Python 3.12 (Chalice packages for the interpreter it runs on; the functions' runtime is python3.12).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import build_layer, template

HERE = Path(__file__).resolve().parent
CHALICE_DIR = HERE.parent
ROOT = CHALICE_DIR.parent
RUNTIME = (3, 12)
INSTALL_FAILURE = "Could not install dependencies"


class PackageError(RuntimeError):
    """The stage cannot be packaged."""


@dataclass(frozen=True)
class Package:
    """What `make package` produced for one stage."""

    stage: str
    out: Path
    template: Path
    deployment_zip: Path
    layer_zip: Path
    layer: build_layer.Layer

    def sizes(self) -> dict[str, int]:
        return {
            "deployment_zip_bytes": self.deployment_zip.stat().st_size,
            "deployment_unzipped_bytes": _unzipped(self.deployment_zip),
            "layer_zip_bytes": self.layer.zip_bytes,
            "layer_unzipped_bytes": self.layer.unzipped_bytes,
        }


def _unzipped(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def _chalice() -> list[str]:
    return [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())"]


def _check_python() -> None:
    if sys.version_info[:2] != RUNTIME:
        raise PackageError(
            f"chalice package must run on Python {RUNTIME[0]}.{RUNTIME[1]} (the functions' runtime; Chalice "
            f"packages for the interpreter it runs on), not {sys.version_info[0]}.{sys.version_info[1]}: "
            "use .venv/bin/python (make venv)"
        )


def function_wheels() -> list[Path]:
    """The pinned wheels of function-requirements.txt (orjson), downloaded once into build/wheels/."""
    return build_layer.download(
        build_layer.read_requirements(build_layer.FUNCTION_REQUIREMENTS),
        requirements=build_layer.FUNCTION_REQUIREMENTS,
    )


def _rewrite(path: Path, wheels: list[Path]) -> None:
    """Rewrite the deployment zip with the pinned wheels' files added (Chalice itself installs nothing:
    it would resolve them anew, online), without __pycache__/ (the symlinked etl/ carries the
    checkout's bytecode; Lambda would ignore it, stale), in sorted order with fixed dates, so equal
    code gives an equal zip."""
    entries: dict[str, tuple[int, bytes]] = {}
    with zipfile.ZipFile(path) as src:
        for info in src.infolist():
            if "__pycache__/" in info.filename or info.filename.endswith(".pyc") or info.is_dir():
                continue
            entries[info.filename] = (info.external_attr, src.read(info))
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if info.filename in entries:
                    raise PackageError(f"{wheel.name} and the app both ship {info.filename}")
                mode = 0o755 if info.external_attr >> 16 & 0o111 else 0o644
                entries[info.filename] = ((0o100000 | mode) << 16, archive.read(info))
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(entries):
            attr, data = entries[name]
            entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            entry.external_attr = attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    tmp.replace(path)


def package(stage: str, out: Path | None = None, *, layer: build_layer.Layer | None = None) -> Package:
    """Build the layer (or reuse it), run `chalice package` with the merge template, post-process."""
    _check_python()
    out = (out or ROOT / "build" / "package" / stage).resolve()
    layer = layer or build_layer.build()
    merge = template.compose(stage)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    merge_path = out.parent / f".{stage}-merge-template.json"
    merge_path.write_text(json.dumps(merge, indent=2))
    command = [
        *_chalice(), "--project-dir", str(CHALICE_DIR), "package", "--stage", stage,
        "--merge-template", str(merge_path), str(out),
    ]  # fmt: skip
    # Chalice insists on a region although the template never names one (it uses ${AWS::Region}).
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION") or "us-east-1")
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    output = result.stdout + result.stderr
    if result.returncode != 0 or INSTALL_FAILURE in output:
        raise PackageError(f"chalice package failed (exit {result.returncode}):\n{output}")
    # What Chalice generated, merged: every role it holds must carry the bootstrap's boundary.
    template.check_boundaries(json.loads((out / "sam.json").read_text()))
    deployment = out / "deployment.zip"
    _rewrite(deployment, function_wheels())
    layer_zip = out / build_layer.LAYER_ZIP
    shutil.copyfile(layer.zip_path, layer_zip)
    return Package(stage, out, out / "sam.json", deployment, layer_zip, layer)


def package_data(stage: str, out: Path | None = None) -> Path:
    """data.yaml alone for one stage (as JSON, Stage defaulting to ``stage``) next to the layer zip."""
    out = (out or ROOT / "build" / "data" / stage).resolve()
    layer = build_layer.build()
    data = template.load(template.DATA_TEMPLATE)
    data["Parameters"]["Stage"]["Default"] = stage
    out.mkdir(parents=True, exist_ok=True)
    path = out / "data.json"
    path.write_text(json.dumps(data, indent=2))
    shutil.copyfile(layer.zip_path, out / build_layer.LAYER_ZIP)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, help="a stage of .chalice/config.json (prod, dev...)")
    parser.add_argument("--out", type=Path, help="output folder (default build/package/<stage>)")
    parser.add_argument("--data-only", action="store_true", help="data.yaml alone (`chalice deploy` path)")
    args = parser.parse_args(argv)
    try:
        if args.data_only:
            sys.stdout.write(f"{package_data(args.stage, args.out)}\n")
            return 0
        result = package(args.stage, args.out)
    except (PackageError, build_layer.LayerError, template.TemplateError) as exc:
        sys.stderr.write(f"package: {exc}\n")
        return 1
    sys.stdout.write(json.dumps({"out": str(result.out), **result.sizes()}, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
