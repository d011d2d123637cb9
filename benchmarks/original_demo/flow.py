"""The original demo's flow as a list of commands: what its ExecuteStreamCommand chain ran.

Each stage reads the previous stage's whole output and writes its own, one after the
other, as NiFi passed the content from processor to processor: eight `encrypt_column.py`
processes (the first also adds gift_won), then `to_parquet.py`.

Run by hand: python benchmarks/original_demo/flow.py IN.csv WORKDIR
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

ENCRYPTED_COLUMNS = (
    "First Name",
    "Last Name",
    "Email Address",
    "Phone Number",
    "Shipping Address",
    "Delivery Address",
    "Payment Info",
    "gift_won",
)


def stages(input_csv: Path, workdir: Path) -> list[tuple[str, list[str], Path, Path | None]]:
    """(name, argv, stdin file, stdout file or None) per stage, in order."""
    result, source = [], Path(input_csv)
    for position, column in enumerate(ENCRYPTED_COLUMNS):
        argv = [sys.executable, str(HERE / "encrypt_column.py"), column]
        if position == 0:
            argv.append("--add-gift-won")
        target = Path(workdir) / f"stage{position + 1}.csv"
        result.append((f"encrypt {column}", argv, source, target))
        source = target
    result.append(("to_parquet", [sys.executable, str(HERE / "to_parquet.py"), str(parquet_path(workdir))], source, None))
    return result


def parquet_path(workdir: Path) -> Path:
    return Path(workdir) / "demo.parquet"


def main() -> None:
    input_csv, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    for name, argv, source, target in stages(input_csv, workdir):
        with open(source, "rb") as stdin, open(target or "/dev/null", "wb") as stdout:
            code = subprocess.run(argv, stdin=stdin, stdout=stdout).returncode
        print(f"{name}: exit {code}", file=sys.stderr)
        if code:
            sys.exit(code)


if __name__ == "__main__":
    main()
