#!/usr/bin/env bash
# Make opencv-python-headless the only installed OpenCV, whatever pulled the GUI build in.
set -euo pipefail
if python -m pip show -q opencv-python >/dev/null 2>&1; then
  python -m pip uninstall -q -y opencv-python
  python -m pip install -q --force-reinstall --no-deps opencv-python-headless
fi
