"""Per-value `Fernet` against the old numpy batch and the compiled batch Fernet, on the same values.

Run: python -m benchmarks.fernet_batch [--values 200000] [--runs 5]
The values look like the encrypted columns (names, emails, postal addresses of
20-120 characters, some non-ASCII); every side starts from the same Python list of str.
Encryption: `Fernet.encrypt` per value (d1), the numpy BatchEncryptor (d2), the compiled
`encrypt_column` (d3); decryption: `Fernet.decrypt` per token against `decrypt_column`.
Exits non-zero when the compiled encryption is not at least MIN_SPEEDUP times as fast as
per-value Fernet, the target it was built for.
"""

import argparse
import random
import statistics
import sys
import time

from cryptography.fernet import Fernet
from faker import Faker

from ecommerce_pipeline.fernet_tokens import decrypt_column, encrypt_column, generate_key, parse_keys

from .numpy_fernet import BatchEncryptor

POOL_SIZE = 2_000
MIN_SPEEDUP = 10


def realistic_values(count: int, seed: int = 42) -> list[str]:
    """Faker pools (Faker is slow) combined into identifier-like strings of 20-120 characters."""
    faker = Faker(["en_US", "de_DE", "fr_FR", "ja_JP"])
    faker.seed_instance(seed)
    names = [faker.name() for _ in range(POOL_SIZE)]
    emails = [faker.email() for _ in range(POOL_SIZE)]
    addresses = [faker.address() for _ in range(POOL_SIZE)]
    shapes = (
        lambda rng: rng.choice(addresses),
        lambda rng: f"{rng.choice(names)} <{rng.choice(emails)}>",
        lambda rng: f"{rng.choice(names)}, {rng.choice(addresses)}",
        lambda rng: f"{rng.choice(emails)}; {rng.choice(emails)}",
        lambda rng: f"{rng.choice(names)}, {rng.choice(addresses)}, {rng.choice(emails)}",
        lambda rng: f"{rng.choice(addresses)}\nc/o {rng.choice(names)}, {rng.choice(addresses)}",
    )
    rng = random.Random(seed)
    values = []
    while len(values) < count:
        value = rng.choice(shapes)(rng)
        if 20 <= len(value) <= 120:
            values.append(value)
    return values


def interleaved_medians(approaches: dict, runs: int) -> dict[str, float]:
    """Median seconds of each approach, run in turn (one of each per round) so a busy spell hits all alike."""
    seconds = {name: [] for name in approaches}
    for _ in range(runs):
        for name, run in approaches.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(taken) for name, taken in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    values = realistic_values(args.values)
    key = generate_key()
    fernet, encryptor, keys = Fernet(key), BatchEncryptor(key), parse_keys(key)
    for tokens in (encryptor.encrypt(values[:1_000]), encrypt_column(values[:1_000], keys)):
        assert [fernet.decrypt(token).decode("utf-8") for token in tokens.to_pylist()] == values[:1_000], "tokens are wrong"
    tokens = encrypt_column(values, keys)
    assert decrypt_column(tokens, keys).to_pylist() == values, "decryption is wrong"
    token_list = tokens.to_pylist()

    timings = interleaved_medians({
        "Fernet.encrypt per value (d1)": lambda: [fernet.encrypt(value.encode("utf-8")) for value in values],
        "numpy BatchEncryptor (d2)": lambda: encryptor.encrypt(values),
        "compiled encrypt_column (d3)": lambda: encrypt_column(values, keys),
        "Fernet.decrypt per token": lambda: [fernet.decrypt(token).decode("utf-8") for token in token_list],
        "compiled decrypt_column": lambda: decrypt_column(token_list, keys),
    }, args.runs)
    mean_length = statistics.fmean(len(value) for value in values)
    print(f"{len(values):,} values, mean {mean_length:.0f} characters, median of {args.runs} interleaved runs each")
    for name, seconds in timings.items():
        print(f"{name + ':':<32}{seconds:7.3f} s  {len(values) / seconds:>12,.0f} values/s")
    per_value, numpy_batch, compiled, decrypt_per_token, decrypt_batch = timings.values()
    print(f"d2 / d1: {per_value / numpy_batch:.1f}x   d3 / d1: {per_value / compiled:.1f}x   "
          f"batch / per-token decryption: {decrypt_per_token / decrypt_batch:.1f}x")
    if per_value / compiled < MIN_SPEEDUP:
        sys.exit(f"the compiled encryption is only {per_value / compiled:.1f}x as fast as Fernet per value, "
                 f"not the {MIN_SPEEDUP}x it was built for")


if __name__ == "__main__":
    main()
