"""Says why the data tests did not run when the data extra is missing (instead of silence)."""

import pytest

from tests.data.conftest import MISSING


def test_data_extra_installed():
    if MISSING:
        pytest.skip(f"data extra not installed (missing: {', '.join(MISSING)}); pip install 'microverse[data]'")
