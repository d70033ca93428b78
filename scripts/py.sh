#!/usr/bin/env bash
# Runs Debian's Python (the one python3-torch and python3-onnx install into), not a python3 that a version
# manager such as pyenv may put first on PATH. Override with PYTHON=/path/to/python3.
exec "${PYTHON:-/usr/bin/python3}" "$@"
