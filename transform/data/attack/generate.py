#!/usr/bin/env python3
"""Write enterprise.tsv, the ATT&CK Enterprise table crowsnest embeds, from MITRE's data.

Reads a checkout of https://github.com/mitre/cti (one JSON bundle per object under
enterprise-attack/<type>/, so the multi-megabyte enterprise-attack.json is not needed)
and writes the tactics, techniques and sub-techniques (revoked and deprecated ones too,
marked so), the analytics that detect each technique, the data components and
data sources, and the ids of groups, software and campaigns. README.md in this directory
describes every column.

    python3 transform/data/attack/generate.py CTI_CHECKOUT [--version 18.1] [--commit SHA]

The ATT&CK version and the commit default to what git says of the checkout
(`git describe --tags --exact-match`, whose ATT&CK tags read `ATT&CK-v18.1`).
Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "enterprise.tsv"
DOMAIN = "enterprise-attack"

TRADEMARK = "ATT&CK\u00ae is a registered trademark of The MITRE Corporation."


def fail(msg: str) -> None:
    sys.exit(f"generate.py: {msg}")


def external_id(obj: dict) -> str | None:
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack":
            return ref.get("external_id")
    return None


def load(domain_dir: Path) -> tuple[dict[str, dict], list[dict]]:
    """Every object of the domain by STIX id, and the relationships."""
    objects: dict[str, dict] = {}
    relationships: list[dict] = []
    for path in sorted(domain_dir.glob("*/*.json")):
        with path.open(encoding="utf-8") as f:
            bundle = json.load(f)
        for obj in bundle.get("objects", []):
            if obj["type"] == "relationship":
                relationships.append(obj)
            else:
                objects[obj["id"]] = obj
    if not objects:
        fail(f"no objects under {domain_dir}/*/*.json: is this a mitre/cti checkout?")
    return objects, relationships


def git(checkout: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def field(text: str) -> str:
    if any(c in text for c in "\t\n\r"):
        fail(f"a tab or line break in {text!r} would break the table")
    return text.strip()


def ranges(prefix: str, numbers: list[int]) -> str:
    """`G0001-0003,G0005` for 1, 2, 3, 5."""
    numbers = sorted(set(numbers))
    parts = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        a, b = numbers[i], numbers[j]
        parts.append(f"{prefix}{a:04}" if a == b else f"{prefix}{a:04}-{b:04}")
        i = j + 1
    return ",".join(parts)


def checked_id(obj: dict, prefix: str) -> str:
    """The object's ATT&CK id, which must be the prefix and four digits."""
    oid = external_id(obj) or ""
    if not re.fullmatch(re.escape(prefix) + r"\d{4}", oid):
        fail(f"{obj['type']} id {oid!r} is not {prefix}####")
    return oid


def status(obj: dict, replacement: str | None) -> str:
    if obj.get("revoked"):
        if not replacement:
            fail(f"{external_id(obj)} is revoked but no revoked-by relationship names its replacement")
        return f"revoked:{replacement}"
    if obj.get("x_mitre_deprecated"):
        return "deprecated"
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkout", type=Path, help="a checkout of github.com/mitre/cti")
    ap.add_argument("--version", help="the ATT&CK version (default: from the checkout's ATT&CK-v tag)")
    ap.add_argument("--commit", help="the checkout's commit (default: git rev-parse HEAD)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = ap.parse_args()

    version = args.version
    if not version:
        tag = git(args.checkout, "describe", "--tags", "--exact-match", "--match", "ATT&CK-v*")
        if not tag:
            fail("the checkout's HEAD carries no ATT&CK-v tag: pass --version")
        version = tag.removeprefix("ATT&CK-v")
    if not re.fullmatch(r"\d+\.\d+", version):
        fail(f"ATT&CK version {version!r} is not MAJOR.MINOR")
    commit = args.commit or git(args.checkout, "rev-parse", "HEAD")
    if not commit:
        fail("the checkout is not a git work tree: pass --commit")

    objects, relationships = load(args.checkout / DOMAIN)
    by_type: dict[str, list[dict]] = {}
    for obj in objects.values():
        if DOMAIN in obj.get("x_mitre_domains", [DOMAIN]):
            by_type.setdefault(obj["type"], []).append(obj)

    # Revoked objects point at their replacement; follow chains to a current object.
    revoked_by = {
        r["source_ref"]: r["target_ref"]
        for r in relationships
        if r["relationship_type"] == "revoked-by"
    }

    def replacement(stix_id: str) -> str | None:
        seen = set()
        while stix_id in revoked_by and stix_id not in seen:
            seen.add(stix_id)
            stix_id = revoked_by[stix_id]
        target = objects.get(stix_id)
        if target is None or target.get("revoked"):
            return None
        return external_id(target)

    lines: list[tuple[str, str]] = []  # (sort key, line)

    def add(*fields: str) -> None:
        line = "\t".join(fields).rstrip("\t")
        lines.append((fields[0], line))

    # Tactics, with their place in the Enterprise matrix (the order ATT&CK shows them in).
    matrices = by_type.get("x-mitre-matrix", [])
    if len(matrices) != 1:
        fail(f"expected one Enterprise matrix, found {len(matrices)}")
    order = {ref: i for i, ref in enumerate(matrices[0]["tactic_refs"])}
    tactics = {}
    for obj in by_type["x-mitre-tactic"]:
        if obj["id"] not in order:
            fail(f"tactic {external_id(obj)} is not in the Enterprise matrix")
        short = field(obj["x_mitre_shortname"])
        tid = checked_id(obj, "TA")
        if not tid.startswith("TA00"):
            fail(f"tactic id {tid!r} is not TA00##, which the technique lines abbreviate")
        tactics[short] = tid
        add(tid, short, field(obj["name"]), str(order[obj["id"]]))

    # ATT&CK v18 analytics: each belongs to a detection strategy, which detects techniques.
    # A technique's line lists the analytics of the strategies that detect it.
    analytics: dict[str, list[int]] = {}
    for r in relationships:
        if r["relationship_type"] == "detects" and r["source_ref"].startswith("x-mitre-detection-strategy--"):
            strategy = objects[r["source_ref"]]
            if strategy.get("revoked") or strategy.get("x_mitre_deprecated"):
                continue
            for ref in strategy.get("x_mitre_analytic_refs", []):
                an = checked_id(objects[ref], "AN")
                analytics.setdefault(r["target_ref"], []).append(int(an[2:]))

    for obj in by_type["attack-pattern"]:
        tid = field(external_id(obj))
        if not re.fullmatch(r"T\d{4}(\.\d{3})?", tid):
            fail(f"technique id {tid!r} is not T#### or T####.###")
        phases = []
        for phase in obj.get("kill_chain_phases", []):
            if phase["kill_chain_name"] != "mitre-attack":
                continue
            if phase["phase_name"] not in tactics:
                fail(f"{tid} names tactic {phase['phase_name']!r}, which the matrix lacks")
            phases.append(phase["phase_name"])
        # A revoked technique is only a pointer to its replacement.
        st = status(obj, replacement(obj["id"]))
        codes = "" if obj.get("revoked") else ",".join(sorted(tactics[p].removeprefix("TA00") for p in phases))
        add(tid, field(obj["name"]), st, codes, ranges("AN", analytics.get(obj["id"], [])))

    for kind, prefix in (("x-mitre-data-component", "DC"), ("x-mitre-data-source", "DS")):
        for obj in by_type.get(kind, []):
            oid = checked_id(obj, prefix)
            add(oid, field(obj["name"]), status(obj, replacement(obj["id"])))

    # Groups, software and campaigns: ids only (rules tag them; crowsnest checks they exist).
    for key, types, prefix in (
        ("groups", ("intrusion-set",), "G"),
        ("software", ("malware", "tool"), "S"),
        ("campaigns", ("campaign",), "C"),
    ):
        objs = [o for t in types for o in by_type.get(t, [])]
        add(key, ranges(prefix, [int(checked_id(o, prefix)[1:]) for o in objs]))
        for o in objs:
            s = status(o, replacement(o["id"]))
            if s:
                add(external_id(o), field(o["name"]), s)

    add("version", version)

    keys = [k for k, _ in lines]
    if len(set(keys)) != len(keys):
        fail("two lines share an id")
    lines.sort()
    header = [
        f"# MITRE ATT&CK Enterprise v{version}, from github.com/mitre/cti at {commit}.",
        "# Generated by transform/data/attack/generate.py; do not edit. Columns: README.md.",
        f"# {TRADEMARK}",
        *(f"# {p}" for p in attack_license(args.checkout)),
    ]
    args.out.write_text("\n".join(header + [l for _, l in lines]) + "\n", encoding="utf-8")
    print(f"{args.out}: ATT&CK v{version}, {len(lines)} lines, {args.out.stat().st_size} bytes")


def attack_license(checkout: Path) -> list[str]:
    """The ATT&CK section's license paragraph and copyright designation, verbatim from
    the checkout's LICENSE.txt: MITRE asks every copy to reproduce both."""
    try:
        text = (checkout / "LICENSE.txt").read_text(encoding="utf-8")
    except OSError as e:
        fail(f"cannot read the data's license: {e}")
    m = re.search(r"ATT&CK\u00ae\n=+\nLicense\n-+\n(.*?)\n\n(\".*?\")\n", text, re.S)
    if not m:
        fail("LICENSE.txt has no ATT&CK License section of the expected shape; read it and update this script")
    return [" ".join(m.group(1).split()), m.group(2)]


if __name__ == "__main__":
    main()
