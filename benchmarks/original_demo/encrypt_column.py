"""One stage of the original demo: encrypt one CSV column, read from stdin, written to stdout.

The demo ran one of these per encrypted column, chained with NiFi ExecuteStreamCommand.
It is re-created as it was, on purpose: it splits rows on '\\n' and fields on ',' (so
quoted commas and multi-line addresses break rows apart), and makes a fresh Fernet key
per process and throws it away, so nothing it writes can ever be decrypted.

Usage: python encrypt_column.py COLUMN [--add-gift-won] < in.csv > out.csv

One departure keeps the chain running to the end: a line too short to have the column
(a fragment of a broken-up row) is passed through, where the demo would stop with an
IndexError at the first one.
"""

import sys

from cryptography.fernet import Fernet

GIFT_COLUMN = "gift_won"
AMOUNT_COLUMN = "Total Purchase Value"


def gift_for(amount_text: str) -> str:
    """The demo's gift for the amount as split; '' when it is not a number."""
    try:
        amount = float(amount_text)
    except ValueError:
        return ""
    return gift_for_amount(amount)


def gift_for_amount(amount: float) -> str:
    """The demo's gift thresholds (NaN, as no comparison holds, gets the last gift)."""
    if amount < 500:
        return "Wireless Mouse"
    if amount <= 1200:
        return "Bluetooth Headphones"
    return "Keyboard + Wireless Mouse"


def main() -> None:
    column = sys.argv[1]
    add_gift_won = "--add-gift-won" in sys.argv[2:]
    lines = sys.stdin.read().split("\n")
    header = lines[0].split(",")
    if add_gift_won:
        amount_index = header.index(AMOUNT_COLUMN)
        header.append(GIFT_COLUMN)
    index = header.index(column)
    fernet = Fernet(Fernet.generate_key())

    out = [",".join(header)]
    for line in lines[1:]:
        if not line:
            continue
        fields = line.split(",")
        if add_gift_won:
            fields.append(gift_for(fields[amount_index]) if len(fields) > amount_index else "")
        if len(fields) > index:
            fields[index] = fernet.encrypt(fields[index].encode()).decode()
        out.append(",".join(fields))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
