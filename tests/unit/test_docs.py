"""README.md and docs/ stay true to the repository: the processors they name are the flow's, their links resolve.

Generic on purpose, so it keeps holding as the flow and the files change: processor types
and names come from flows/ecommerce-ingest.json, links and paths are resolved on disk.

A page may name a processor the flow does not have where it says why (a measurement of an
older flow, the pattern a processor replaced, a NiFi processor that is not published):
the section (up to the next heading) declares it in a comment,
`<!-- not-in-the-flow: GetFile, PutS3Object -->`, and may name only those.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FLOW = json.loads((REPO / "flows" / "ecommerce-ingest.json").read_text())["flowContents"]
FLOW_TYPES = {p["type"].rsplit(".", 1)[-1] for p in FLOW["processors"]}
DECLARED = re.compile(r"<!--\s*not-in-the-flow:\s*([^>]*?)\s*-->")
# NiFi names processors verb first (GetFile, SplitRecord, CryptographicHashContent): a CamelCase
# word starting with one of these reads as a processor type.
PROCESSOR_VERBS = (
    "Get|Put|Fetch|List|Split|Route|Query|Update|Convert|Merge|Encrypt|Decrypt|Clean|Check|Upload|Segment|Execute|"
    "Replace|Extract|Evaluate|Validate|Generate|Consume|Publish|Invoke|Handle|Listen|Log|Wait|Notify|Detect|"
    "Compress|Partition|Lookup|Modify|Identify|Monitor|Count|Tail|Calculate|Control|Distribute|Enforce|Join|Fork|"
    "Unpack|Scan|Transform|Sample|Retry|Deduplicate|Delete|Copy|Move|Cryptographic|Hash|Parse|Filter|Attributes"
)
PROCESSOR_LIKE = re.compile(rf"(?<![\w:/.-])((?:{PROCESSOR_VERBS})(?:[A-Z0-9][a-z0-9]*)+)\b")
# S3 API operations and IAM actions share NiFi's naming; they are the store's, not processors.
S3_OPERATIONS = {"GetObject", "PutObject", "DeleteObject", "HeadObject", "ListBucket", "ListObjectsV2",
                 "GetBucketVersioning", "ListBucketVersions", "DeleteObjectVersion", "GetObjectVersion",
                 "CreateBucket", "CopyObject", "ListObjects", "DeleteObjects", "ListBuckets"}
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
TOP_LEVEL = ("processors/", "nifi/", "tests/", "benchmarks/", "flows/", "docs/", "data/", ".ci/")
CODE_PATH = re.compile(r"`((?:%s)[^`\s]*)`" % "|".join(re.escape(t) for t in TOP_LEVEL))
TEST_REFERENCE = re.compile(r"(test_\w+\.py)::(test_\w+?)(…|\.\.\.)?(?=[`\s,;)]|$)")


def sections(page: Path):
    """(heading, text) of each part of a page, cut at its headings."""
    heading, lines = page.name, []
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            yield heading, "\n".join(lines)
            heading, lines = line.strip("# "), []
        else:
            lines.append(line)
    yield heading, "\n".join(lines)


def processors_named(text: str) -> set[str]:
    return {word for word in PROCESSOR_LIKE.findall(DECLARED.sub("", text)) if word not in S3_OPERATIONS}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_processor_a_page_names_is_in_the_flow_or_declared_where_it_is_not(page):
    stray = []
    for heading, text in sections(page):
        declared = {name.strip() for found in DECLARED.findall(text) for name in found.split(",") if name.strip()}
        stray += [f"{heading!r}: {name}" for name in sorted(processors_named(text) - FLOW_TYPES - declared)]
        unused = declared - processors_named(text)
        assert not unused, f"{page.name}, {heading!r} declares {unused} but does not name them"
        assert not declared & FLOW_TYPES, f"{page.name}, {heading!r} declares {declared & FLOW_TYPES}, which the flow has"
    assert not stray, f"{page.name} names processors the flow does not have: {stray}"


def test_the_check_finds_a_processor_the_flow_lacks():
    """The detection itself: a stale name is found, S3 operations and the flow's own types are not."""
    text = "GetFile takes it; FetchFromLandingBucket reads it; s3:GetObject and PutObject are S3's; ListFile is ours."
    assert processors_named(text) - FLOW_TYPES == {"GetFile", "FetchFromLandingBucket"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_and_path_a_page_names_exists_inside_the_repository(page):
    text = page.read_text()
    missing, outside = [], []
    targets = [t.split("#")[0] for t in MARKDOWN_LINK.findall(text) if not re.match(r"[a-z]+:|#", t)]
    targets += re.findall(r"(?<![\w.])(\.\./[^\s`)\]'\"]+)", text)
    for target in filter(None, targets):
        resolved = (page.parent / target).resolve()
        if not resolved.is_relative_to(REPO):
            outside.append(target)
        elif not resolved.exists():
            missing.append(target)
    for path in CODE_PATH.findall(text):
        path = path.split("::")[0].rstrip(".,;:")
        if not re.search(r"[<>*{}…]|\.\.\.", path) and not (REPO / path).exists() and not generated(path):
            missing.append(path)
    assert not outside, f"{page.name} links outside the repository: {outside}"
    assert not missing, f"{page.name} names files that do not exist: {missing}"


def generated(path: str) -> bool:
    """A path git ignores: what a command writes (benchmarks/results/, data/inbox/), not a file of the repository."""
    return subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=REPO).returncode == 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_test_a_page_cites_exists(page):
    tests = {path.name: path.read_text() for path in (REPO / "tests").rglob("test_*.py")}
    stale = []
    for file, name, shortened in TEST_REFERENCE.findall(page.read_text()):
        defined = re.findall(r"^def (test_\w+)", tests.get(file, ""), re.MULTILINE)
        if not any(d == name or (shortened and d.startswith(name)) for d in defined):
            stale.append(f"{file}::{name}{shortened}")
    assert not stale, f"{page.name} cites tests that do not exist: {stale}"
