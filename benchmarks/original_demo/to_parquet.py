"""The original demo's last stage: the CSV on stdin into Parquet with pandas.

Usage: python to_parquet.py OUT.parquet < in.csv
"""

import sys

import pandas as pd


def main() -> None:
    pd.read_csv(sys.stdin).to_parquet(sys.argv[1])


if __name__ == "__main__":
    main()
