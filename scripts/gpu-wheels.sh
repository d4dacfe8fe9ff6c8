#!/usr/bin/env bash
# Download, HERE, the wheels a lent GPU machine (device tool, python 3.12, torch 2.11+cu130, no network)
# lacks for the model benchmarks, into .whl/ (git-ignored), and check that their requirements are met
# by the image. scripts/gpu-bench.sh installs them there. See docs/benchmarks/model.md.
#
#   bash scripts/gpu-wheels.sh             # diffusers (6.1 MiB): all the benchmarks need
#   bash scripts/gpu-wheels.sh --with-av   # + PyAV (34 MiB): mp4 writing (microverse.model.pipelines.video_io)
#   bash scripts/gpu-wheels.sh --with-cli  # + PyAV, pydantic, platformdirs (~37 MiB more): the `microverse` CLI
#
# Checked here with `python -X importtime`: of what the --tiny benchmark runs import, only diffusers
# (and microverse, from the source tree) is missing from the image's package list; `python -m
# microverse.cli.app generate --help` also needs pydantic (+ pydantic-core, annotated-types,
# typing-inspection) and platformdirs, and writing a video needs PyAV.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned to what the tests here run with. The image already has numpy, safetensors 0.8.0,
# huggingface-hub 1.33, regex, requests, filelock, Pillow, transformers, accelerate, peft, matplotlib.
WHEELS=(diffusers==0.42.1)
case "${1:-}" in
  --with-av) WHEELS+=(av==18.1.0) ;;
  --with-cli) WHEELS+=(av==18.1.0 pydantic==2.14.3 pydantic_core==2.50.4 annotated-types==0.8.0
                       typing-inspection==0.4.5 typing_extensions==4.16.0 platformdirs==4.14.7) ;;
  "") ;;
  *) echo "usage: $0 [--with-av | --with-cli]"; exit 2 ;;
esac

grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo '/.whl/' >> .git/info/exclude; }
rm -rf .whl && mkdir .whl
PY=${PYTHON:-python3}
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"

# Every requirement of every wheel must be another carried wheel or in the image at a fitting version
# (KINDS.md of the device tool: the package list and the versions a session saw there).
$PY - <<'EOF'
import re, sys, zipfile
from pathlib import Path
from packaging.requirements import Requirement
from packaging.version import Version

IMAGE = {"numpy": "2.5.2", "safetensors": "0.8.0", "huggingface-hub": "1.33.0", "transformers": "5.17.0",
         "accelerate": "1.15.0", "torch": "2.11.0", "regex": None, "requests": None, "filelock": None,
         "pillow": None, "zipp": None, "typing-extensions": None, "packaging": None, "pyyaml": None}
# Declared but never imported on Python 3.12 (diffusers imports it only on Python < 3.8).
UNUSED = {"importlib-metadata"}
carried, problems = {}, []
for wheel in Path(".whl").glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    carried[re.sub(r"[-_.]+", "-", name).lower()] = version
size = sum(w.stat().st_size for w in Path(".whl").glob("*.whl"))
for wheel in Path(".whl").glob("*.whl"):
    meta = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker and not req.marker.evaluate({"python_version": "3.12", "extra": ""}):
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in UNUSED:
            continue
        have = carried[name] if name in carried else IMAGE.get(name, "absent")  # None: version not known
        if have == "absent" or (have and not req.specifier.contains(Version(have), prereleases=True)):
            problems.append(f"{wheel.name}: needs {req} (image/carried: {have})")
for p in problems:
    print("UNMET", p)
print(f"{len(carried)} wheels, {size / 2**20:.1f} MiB in .whl/: {', '.join(sorted(carried))}")
sys.exit(1 if problems else 0)
EOF
