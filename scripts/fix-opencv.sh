#!/usr/bin/env bash
# Make opencv-python-headless the only installed OpenCV, whatever pulled the GUI build in
# (scenedetect and rapidocr-onnxruntime depend on opencv-python, which needs libGL).
# Both wheels install the same cv2/ folder, so removing the GUI one breaks the headless one:
# reinstall it afterwards. Safe to run any number of times.
set -euo pipefail
if python -m pip show -q opencv-python >/dev/null 2>&1; then
  python -m pip uninstall -q -y opencv-python
  python -m pip install -q --force-reinstall --no-deps opencv-python-headless
fi
if ! python -m pip show -q opencv-python-headless >/dev/null 2>&1; then
  python -m pip install -q opencv-python-headless
fi
python -c "import cv2" || { echo "fix-opencv: 'import cv2' still fails" >&2; exit 1; }
