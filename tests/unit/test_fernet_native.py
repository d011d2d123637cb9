"""The compiled module itself: it releases the GIL, checks the buffers it is handed, and is never optional."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from ecommerce_pipeline import _fernet
from ecommerce_pipeline.fernet_tokens import decrypt_column, encrypt_column, generate_key

REPO = Path(__file__).resolve().parents[2]
KEY = bytes(range(32))
LONG_ENOUGH_SECONDS = 0.2  # the call must outlast many switch intervals (set to 1 ms below)


def ticks_during(call) -> tuple[list[float], float, float]:
    """Times at which another Python thread ran while `call` ran, and the call's start and end."""
    ticks, stop = [], threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        start = time.perf_counter()
        call()
        end = time.perf_counter()
    finally:
        stop.set()
        spinner.join()
        sys.setswitchinterval(interval)
    return ticks, start, end


def long_call(make_call):
    """A call over enough values to last LONG_ENOUGH_SECONDS here, and what the other thread did meanwhile."""
    count = 100_000
    while True:
        call = make_call(count)
        ticks, start, end = ticks_during(call)
        if end - start >= LONG_ENOUGH_SECONDS or count >= 25_600_000:
            return ticks, start, end
        count *= 2


def ran_in_the_middle(ticks: list[float], start: float, end: float) -> int:
    """Ticks in the middle half of the call: holding the GIL, a call lets others run only at its edges."""
    assert end - start >= LONG_ENOUGH_SECONDS, "the call was too short to tell"
    quarter = (end - start) / 4
    return sum(start + quarter <= tick <= end - quarter for tick in ticks)


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_another_thread_runs_while_a_long_batch_is_processed(direction):
    key = generate_key()
    tokens = {}

    def make_call(count):
        values = pa.array(["a value of some forty characters, or so"] * count)
        if direction == "encrypt":
            return lambda: encrypt_column(values, key)
        tokens[count] = encrypt_column(values, key)
        return lambda: decrypt_column(tokens[count], key)

    assert ran_in_the_middle(*long_call(make_call)) > 0, f"the GIL was held through the whole {direction} call"


def buffers(values: list[str]) -> tuple:
    array = pa.array(values)
    validity, offsets, data = array.buffers()
    return len(array), array.offset, validity, offsets, 4, data


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param(lambda b: (b[0] + 1, *b[1:]), "offsets buffer is shorter", id="length past the offsets"),
        pytest.param(lambda b: (b[0], 1, *b[2:]), "offsets buffer is shorter", id="offset past the offsets"),
        pytest.param(lambda b: (*b[:3], pa.py_buffer(pa.array([0, 5, 2], pa.int32()).buffers()[1]), *b[4:]),
                     "offsets decrease", id="decreasing offsets"),
        pytest.param(lambda b: (*b[:3], pa.py_buffer(pa.array([0, 1, 99], pa.int32()).buffers()[1]), *b[4:]),
                     "past the data buffer", id="offsets past the data"),
        pytest.param(lambda b: (*b[:3], pa.py_buffer(pa.array([-1, 1, 2], pa.int32()).buffers()[1]), *b[4:]),
                     "negative offset", id="negative offset"),
        pytest.param(lambda b: (*b[:4], 3, b[5]), "offset_width", id="offset width"),
        pytest.param(lambda b: (b[0], -1, *b[2:]), "non-negative", id="negative array offset"),
    ],
)
def test_buffers_that_do_not_hold_what_they_claim_are_refused(change, message):
    handed = change(buffers(["ab", "c"]))
    with pytest.raises(ValueError, match=message):
        _fernet.encrypt(KEY, 0, *handed)
    with pytest.raises(ValueError, match=message):
        _fernet.decrypt(KEY, -1, 0, *handed)


def test_a_short_validity_bitmap_and_wrong_key_sizes_are_refused():
    length, offset, _, offsets, width, data = buffers(["x"] * 9)
    with pytest.raises(ValueError, match="validity bitmap is shorter"):
        _fernet.encrypt(KEY, 0, length, offset, b"\xff", offsets, width, data)
    with pytest.raises(ValueError, match="32 bytes"):
        _fernet.encrypt(KEY[:31], 0, *buffers(["x"]))
    with pytest.raises(ValueError, match="32 bytes each"):
        _fernet.decrypt(KEY + KEY[:5], -1, 0, *buffers(["x"]))


def test_the_module_is_abi3_on_openssl_3():
    assert Path(_fernet.__file__).name == "_fernet.abi3.so"
    assert _fernet.OPENSSL_VERSION.startswith("OpenSSL 3.")


def test_without_the_compiled_module_the_core_does_not_import_and_says_how_to_build_it():
    blocked = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['ecommerce_pipeline._fernet'] = None; "
                               "import ecommerce_pipeline.table_encryption"],
        capture_output=True, text=True, cwd=REPO / "processors")
    assert blocked.returncode != 0
    last = blocked.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the compiled Fernet, ecommerce_pipeline._fernet, does not load")
    assert "pip install -e ." in last and "libssl-dev" in last
