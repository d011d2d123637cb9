"""Per-value `Fernet.encrypt` against the batch encryptor, side by side on the same values.

Run: python -m benchmarks.fernet_batch [--values 200000] [--runs 5]
The values look like the encrypted columns (names, emails, postal addresses of
20-120 characters, some non-ASCII); both sides include UTF-8 encoding of the input.
Exits non-zero when the batch encryptor is not at least MIN_SPEEDUP times as fast, the
reason it exists.
"""

import argparse
import random
import statistics
import sys
import time

from cryptography.fernet import Fernet
from faker import Faker

from ecommerce_pipeline.fernet_tokens import BatchEncryptor, generate_key

POOL_SIZE = 2_000
MIN_SPEEDUP = 2


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


def median_seconds(run, runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    values = realistic_values(args.values)
    key = generate_key()
    fernet, encryptor = Fernet(key), BatchEncryptor(key)
    sample = encryptor.encrypt(values[:1_000]).to_pylist()
    assert [fernet.decrypt(token).decode("utf-8") for token in sample] == values[:1_000], "batch tokens are wrong"

    per_value = median_seconds(lambda: [fernet.encrypt(value.encode("utf-8")) for value in values], args.runs)
    batch = median_seconds(lambda: encryptor.encrypt(values), args.runs)
    mean_length = statistics.fmean(len(value) for value in values)
    print(f"{len(values):,} values, mean {mean_length:.0f} characters, median of {args.runs} runs each")
    print(f"Fernet.encrypt per value: {per_value:7.3f} s  {len(values) / per_value:>12,.0f} values/s")
    print(f"BatchEncryptor.encrypt:   {batch:7.3f} s  {len(values) / batch:>12,.0f} values/s")
    print(f"batch / per-value speed:  {per_value / batch:.1f}x")
    if per_value / batch < MIN_SPEEDUP:
        sys.exit(f"the batch encryptor is only {per_value / batch:.1f}x as fast as Fernet per value, "
                 f"not the {MIN_SPEEDUP}x it exists for")


if __name__ == "__main__":
    main()
