"""Seeded generator of messy e-commerce exports, shaped like the demo's CSV.

It reproduces what makes the real export hard: multi-line quoted addresses with commas
and double quotes, seven phone shapes, day-first dates in two shapes, amounts with and
without a currency sign, messy status spellings, empty emails and discount codes, unicode
names and optionally a BOM, CRLF line ends and uncleanable rows. The same seed always
gives the same bytes (Faker and random.Random are both seeded, nothing depends on hash
order), so tests, benchmarks and the committed sample agree.

Faker is slow, so it only fills small pools once per seed; rows are drawn from the pools
with random.Random and written to disk in batches, so 10M rows never sit in memory.
"""

import csv
import datetime
import random
from functools import lru_cache
from collections.abc import Callable, Iterator
from itertools import islice
from os import PathLike

from faker import Faker

from .columns import RAW_COLUMNS

BATCH_ROWS = 10_000
CUSTOMER_COUNT = 50_000
PRODUCT_COUNT = 2_000

LOCALE_WEIGHTS = {"en_US": 82, "de_DE": 7, "fr_FR": 7, "ja_JP": 4}
NAMES_PER_LOCALE = 400
ADDRESSES_PER_LOCALE = 1_500
EMAIL_POOL_SIZE = 5_000
CARD_POOL_SIZE = 5_000
COMPANY_POOL_SIZE = 300

EMPTY_EMAIL_RATE = 0.05
EMPTY_DISCOUNT_RATE = 0.44
VIP_CUSTOMER_RATE = 0.12
QUOTED_ADDRESS_RATE = 0.04
ONE_LINE_ADDRESS_RATE = 0.30
OTHER_DELIVERY_ADDRESS_RATE = 0.25
UNPARSEABLE_PHONE_RATE = 0.01
PADDED_VALUE_RATE = 0.05

FIRST_ORDER_DATE = datetime.date(2019, 1, 1)
LAST_ORDER_DATE = datetime.date(2024, 12, 31)

DISCOUNT_CODES = ("SAVE10", "WELCOME5", "SPRING20", "FREESHIP", "VIP15", "BFRIDAY30", "SUMMER10", "save10", " LOYAL5 ")

DELIVERY_STATUS_SPELLINGS = (
    ("Delivered", 14), ("delivered", 6), (" Delivered ", 3), ("DELIVERED", 2),
    ("Shipped", 8), ("SHIPPED", 3), ("shipped ", 2),
    ("In Transit", 6), ("in-transit", 3), ("in transit", 2), ("IN_TRANSIT", 1),
    ("Pending", 6), ("pending", 2), (" PENDING", 1),
    ("Cancelled", 3), ("cancelled", 2), ("Canceled", 2),
    ("Returned", 3), ("returned", 2),
)

VIP_SPELLINGS = {
    True: (("Yes", 10), ("yes", 3), ("YES", 2), ("Y", 2), ("true", 1), ("1", 1)),
    False: (("No", 10), ("no", 3), ("NO", 2), ("N", 2), ("false", 1), ("0", 1)),
}

UNPARSEABLE_AMOUNTS = ("abc", "N/A", "12..50", "$", "one hundred")
UNPARSEABLE_DATES = ("31/31/2020", "2020-13-45", "not a date", "32-01-2021", "00/00/0000")

PADDED_COLUMN_POSITIONS = tuple(
    RAW_COLUMNS.index(name)
    for name in ("Customer ID", "First Name", "Last Name", "Email Address", "Order ID", "Product ID")
)


def _weighted(spellings) -> tuple[list[str], list[int]]:
    """Split (value, weight) pairs into cumulative weights for Random.choices."""
    values = [value for value, _ in spellings]
    cumulative, total = [], 0
    for _, weight in spellings:
        total += weight
        cumulative.append(total)
    return values, cumulative


class _Pools:
    """Everything Faker makes for one seed, plus the customers and products built from it."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        locales = list(LOCALE_WEIGHTS)
        fakers = {}
        for offset, locale in enumerate(locales):
            fake = Faker(locale)
            fake.seed_instance(seed * 31 + offset)
            fakers[locale] = fake

        english = fakers["en_US"]
        companies = [english.company() for _ in range(COMPANY_POOL_SIZE)]
        self.first_names = {loc: [f.first_name() for _ in range(NAMES_PER_LOCALE)] for loc, f in fakers.items()}
        self.last_names = {loc: [f.last_name() for _ in range(NAMES_PER_LOCALE)] for loc, f in fakers.items()}
        self.addresses = {
            loc: [self._messy_address(f.address(), companies, rng) for _ in range(ADDRESSES_PER_LOCALE)]
            for loc, f in fakers.items()
        }
        self.emails = [english.email() for _ in range(EMAIL_POOL_SIZE)]
        self.cards = [english.credit_card_number() for _ in range(CARD_POOL_SIZE)]

        day_count = (LAST_ORDER_DATE - FIRST_ORDER_DATE).days + 1
        days = [FIRST_ORDER_DATE + datetime.timedelta(days=n) for n in range(day_count)]
        self.dashed_dates = [f"{d.day:02d}-{d.month:02d}-{d.year}" for d in days]
        self.slashed_dates = [f"{d.day:02d}/{d.month:02d}/{d.year}" for d in days]

        self.product_ids = [f"PRD-{n:05d}" for n in rng.sample(range(1, 100_000), PRODUCT_COUNT)]
        self.customers = [
            self._customer(customer_number, locales, rng)
            for customer_number in rng.sample(range(1, 1_000_000), CUSTOMER_COUNT)
        ]

    @staticmethod
    def _messy_address(address: str, companies: list[str], rng: random.Random) -> str:
        """Multi-line by default, sometimes one line, sometimes with a quoted care-of line."""
        if rng.random() < QUOTED_ADDRESS_RATE:
            street, _, rest = address.partition("\n")
            address = f'{street}\nc/o "{rng.choice(companies)}", Dock {rng.randint(1, 9)}\n{rest}'.rstrip("\n")
        if rng.random() < ONE_LINE_ADDRESS_RATE:
            address = address.replace("\n", ", ")
        return address

    def _customer(self, customer_number: int, locales: list[str], rng: random.Random) -> tuple:
        locale = rng.choices(locales, weights=list(LOCALE_WEIGHTS.values()))[0]
        shipping = rng.choice(self.addresses[locale])
        delivery = rng.choice(self.addresses[locale]) if rng.random() < OTHER_DELIVERY_ADDRESS_RATE else shipping
        phone_digits = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        return (
            f"CUST-{customer_number:06d}",
            rng.choice(self.first_names[locale]),
            rng.choice(self.last_names[locale]),
            rng.choice(self.emails),
            phone_digits,
            shipping,
            delivery,
            rng.random() < VIP_CUSTOMER_RATE,
            rng.choice(self.cards),
        )


@lru_cache(maxsize=4)
def _pools(seed: int) -> _Pools:
    """Pools are the slow part; tests and benchmarks reuse them across files of one seed."""
    return _Pools(seed)


def _phone(digits: str, rng: random.Random) -> str:
    """One of the export's phone shapes, rarely a local number with no area code."""
    if rng.random() < UNPARSEABLE_PHONE_RATE:
        return f"{digits[3:6]}-{digits[6:]}"
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    shape = rng.randrange(7)
    if shape == 0:
        return f"+1 ({area}) {exchange}-{line}"
    if shape == 1:
        return f"{area}) {exchange}-{line}"
    if shape == 2:
        return f"{area}-{exchange}-{line}"
    if shape == 3:
        return f"({area}) {exchange} {line}"
    if shape == 4:
        return digits
    if shape == 5:
        return f"+1-{area}-{exchange}-{line}"
    return f"{area}.{exchange}.{line}"


def _amount(rng: random.Random) -> str:
    """A purchase value as `1234.5`, `$1,234.50` or ` 99.9 `."""
    value = round(min(rng.lognormvariate(5.0, 1.2), 99_999.0), 2)
    shape = rng.random()
    if shape < 0.60:
        return repr(value)
    if shape < 0.85:
        return f"${value:,.2f}"
    return f" {value!r} "


def _card(number: str, rng: random.Random) -> str:
    """A card number as Faker makes it, or grouped by four with spaces or dashes."""
    shape = rng.random()
    if shape < 0.60:
        return number
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    return (" " if shape < 0.85 else "-").join(groups)


def iter_sample_rows(rows: int, seed: int = 42, bad_row_fraction: float = 0.0) -> Iterator[list[str]]:
    """Yield `rows` raw rows (lists in RAW_COLUMNS order), deterministic for the seed.

    With `bad_row_fraction` > 0, about that share of rows get one defect that cleaning must
    quarantine: empty Order ID or Customer ID, an unparseable amount or an unparseable date.
    """
    if not 0.0 <= bad_row_fraction <= 1.0:
        raise ValueError(f"bad_row_fraction must be between 0 and 1, got {bad_row_fraction}")
    pools = _pools(seed)
    rng = random.Random(seed + 1)
    status_values, status_weights = _weighted(DELIVERY_STATUS_SPELLINGS)
    vip_spellings = {flag: _weighted(spellings) for flag, spellings in VIP_SPELLINGS.items()}
    customers, product_ids = pools.customers, pools.product_ids
    dashed_dates, slashed_dates = pools.dashed_dates, pools.slashed_dates
    choice, choices, random_float = rng.choice, rng.choices, rng.random

    for _ in range(rows):
        customer_id, first, last, email, phone_digits, shipping, delivery, is_vip, card = choice(customers)
        vip_values, vip_weights = vip_spellings[is_vip]
        order_date = choice(dashed_dates) if random_float() < 0.5 else choice(slashed_dates)
        row = [
            customer_id,
            first,
            last,
            "" if random_float() < EMPTY_EMAIL_RATE else email,
            _phone(phone_digits, rng),
            shipping,
            _amount(rng),
            choices(vip_values, cum_weights=vip_weights)[0],
            f"ORD-{rng.getrandbits(80):020X}",
            order_date,
            choice(product_ids),
            choices(status_values, cum_weights=status_weights)[0],
            _card(card, rng),
            shipping,
            "" if random_float() < EMPTY_DISCOUNT_RATE else choice(DISCOUNT_CODES),
            delivery,
            shipping,
        ]
        if random_float() < PADDED_VALUE_RATE:
            position = choice(PADDED_COLUMN_POSITIONS)
            row[position] = f"  {row[position]} "
        if bad_row_fraction and random_float() < bad_row_fraction:
            _break_row(row, rng)
        yield row


def _break_row(row: list[str], rng: random.Random) -> None:
    """Give the row one defect that makes it uncleanable."""
    defect = rng.randrange(4)
    if defect == 0:
        row[RAW_COLUMNS.index("Order ID")] = ""
    elif defect == 1:
        row[RAW_COLUMNS.index("Customer ID")] = " "
    elif defect == 2:
        row[RAW_COLUMNS.index("Total Purchase Value")] = rng.choice(UNPARSEABLE_AMOUNTS)
    else:
        row[RAW_COLUMNS.index("Order Date")] = rng.choice(UNPARSEABLE_DATES)


def write_sample_csv(
    path: str | PathLike,
    rows: int = 25_000,
    seed: int = 42,
    *,
    bad_row_fraction: float = 0.0,
    bom: bool = False,
    crlf: bool = False,
    on_batch: Callable[[int], object] = lambda rows: None,
) -> int:
    """Write a header and `rows` generated rows to `path` in batches; return the rows written.

    `on_batch` hears the rows of each batch once written (a progress bar)."""
    written = 0
    rows_iter = iter_sample_rows(rows, seed, bad_row_fraction)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
        writer.writerow(RAW_COLUMNS)
        while batch := list(islice(rows_iter, BATCH_ROWS)):
            writer.writerows(batch)
            written += len(batch)
            on_batch(len(batch))
    return written
