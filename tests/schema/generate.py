#!/usr/bin/env python3
"""Compile the OCSF and ECS definitions the schema tests need into small JSON files.

Reads local checkouts only; never downloads. Python 3.11+, standard library only.

    generate.py ocsf OCSF_SCHEMA_DIR [--class NAME ...] > tests/schema/ocsf-<version>.json
    generate.py ecs ECS_DIR > tests/schema/ecs-<version>.json

OCSF_SCHEMA_DIR is a checkout of https://github.com/ocsf/ocsf-schema at a release tag.
The compile follows the OCSF schema compiler (ocsf/ocsf-schema-compiler, the one the OCSF
server loads its schema from) for the core schema without platform extensions:
`$include` of profiles and shared attribute sets, `extends` of classes and objects,
class/category/type uids and their enums, the `_dt` siblings the `datetime` profile adds
to every `timestamp_t` attribute, the observable `type_id` enum, and dictionary
attributes merged under each class or object attribute. The output keeps what validation
needs: the named classes (default: detection_finding), every object reachable from them,
the dictionary types and the profiles.

ECS_DIR is a checkout of https://github.com/elastic/ecs at a release tag; the field
definitions come from its generated/ecs/ecs_flat.yml.

The output is a deterministic function of the input tree (sorted keys, no timestamps).
"""

import argparse
import copy
import json
import os
import re
import sys
from pathlib import Path

# --------------------------------------------------------------------------------------
# OCSF
# --------------------------------------------------------------------------------------


class SchemaError(Exception):
    pass


def read_json(path):
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    if not isinstance(value, dict):
        raise SchemaError(f"{path}: expected a JSON object")
    return value


def read_items(base, kind):
    """Every `*.json` under base/kind, keyed by its "name", in path order."""
    items = {}
    root = base / kind
    paths = []
    for dir_path, _dirs, files in os.walk(root):
        paths.extend(Path(dir_path, f) for f in files if f.endswith(".json"))
    for path in sorted(paths):
        item = read_json(path)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError(f"{path}: no name")
        if name in items:
            raise SchemaError(f"{path}: second {kind} named {name!r}")
        items[name] = item
    return items


def deep_merge(dest, source):
    """Merge source into dest; nested objects merge, everything else is replaced."""
    for key, value in source.items():
        if key in dest and isinstance(dest[key], dict) and isinstance(value, dict):
            deep_merge(dest[key], value)
        else:
            dest[key] = value


REQUIREMENT_RANK = {None: 0, "optional": 1, "recommended": 2, "required": 3}
RANK_REQUIREMENT = {rank: req for req, rank in REQUIREMENT_RANK.items()}


def merge_attribute(dest, source):
    """Merge one attribute's details over another's, as the compiler does."""
    for key, value in source.items():
        if key not in dest:
            dest[key] = value
        elif value == dest[key]:
            pass
        elif key == "profiles":
            # None means "not affected by profiles"; otherwise the union of both.
            dest[key] = None if value is None else sorted(set(dest[key] or []) | set(value))
        elif (
            key == "requirement"
            and source.get("profiles") is not None
            and "profiles" in dest
        ):
            # An attribute added by two profiles takes the stronger requirement.
            rank = max(REQUIREMENT_RANK[dest[key]], REQUIREMENT_RANK[value])
            dest[key] = RANK_REQUIREMENT[rank]
        elif isinstance(dest[key], dict) and isinstance(value, dict):
            deep_merge(dest[key], value)
        else:
            dest[key] = value


def merge_attributes(dest, source):
    for name, attribute in source.items():
        if name in dest:
            merge_attribute(dest[name], attribute)
        else:
            dest[name] = attribute


def upgrade_profile_key(item):
    """Source files say `"profile": "x"` (or null) on an attribute; compiled: `profiles`."""
    for attribute in item.get("attributes", {}).values():
        if isinstance(attribute, dict) and "profile" in attribute:
            profile = attribute.pop("profile")
            attribute["profiles"] = None if profile is None else [profile]


class OcsfCompiler:
    def __init__(self, base):
        self.base = base
        self.version = read_json(base / "version.json")["version"]
        self.categories = read_json(base / "categories.json").get("attributes", {})
        self.dictionary = read_json(base / "dictionary.json")
        self.types = self.dictionary.setdefault("types", {}).setdefault("attributes", {})
        self.dict_attributes = self.dictionary.setdefault("attributes", {})
        self.classes = read_items(base, "events")
        self.objects = read_items(base, "objects")
        self.profiles = read_items(base, "profiles")
        for item in list(self.classes.values()) + list(self.objects.values()):
            upgrade_profile_key(item)
        self.include_cache = {}
        self.observable_type_ids = {}

    def include(self, file_name):
        path = self.base / file_name
        if path not in self.include_cache:
            self.include_cache[path] = read_json(path)
        return self.include_cache[path]

    # -- includes ----------------------------------------------------------------------

    def resolve_includes(self, item):
        attributes = item.setdefault("attributes", {})
        if "$include" in attributes:
            value = attributes.pop("$include")
            for file_name in [value] if isinstance(value, str) else value:
                included = self.include(file_name)
                merged = copy.deepcopy(included.get("attributes", {}))
                if included.get("meta") == "profile":
                    for attribute in merged.values():
                        attribute["profiles"] = [included["name"]]
                for key, value2 in included.get("annotations", {}).items():
                    for attribute in merged.values():
                        attribute.setdefault(key, value2)
                merge_attributes(merged, item["attributes"])
                item["attributes"] = merged
        for name, attribute in list(item["attributes"].items()):
            if isinstance(attribute, dict) and "$include" in attribute:
                file_name = attribute.pop("$include")
                merged = copy.deepcopy(self.include(file_name))
                deep_merge(merged, attribute)
                item["attributes"][name] = merged

    # -- extends -----------------------------------------------------------------------

    def resolve_extends(self, items, kind):
        resolved = {}

        def resolve(name):
            if name in resolved:
                return resolved[name]
            item = items[name]
            parent_name = item.get("extends")
            if parent_name is None:
                result = item
            else:
                if parent_name not in items:
                    raise SchemaError(f"{kind} {name} extends undefined {parent_name}")
                result = copy.deepcopy(resolve(parent_name))
                for key, value in item.items():
                    if key == "attributes":
                        attributes = result.setdefault("attributes", {})
                        merge_attributes(attributes, copy.deepcopy(value))
                    elif key == "profiles":
                        merged = set(result.get("profiles", [])) | set(value)
                        if merged:
                            result["profiles"] = sorted(merged)
                    else:
                        result[key] = copy.deepcopy(value)
            resolved[name] = result
            return result

        for name in items:
            resolve(name)
        return resolved

    # -- observables -------------------------------------------------------------------

    def add_observable(self, type_id, caption):
        key = str(type_id)
        if key in self.observable_type_ids:
            raise SchemaError(f"observable type_id {key} defined twice")
        self.observable_type_ids[key] = caption

    def caption_of(self, items, name):
        item = items[name]
        while "caption" not in item and "extends" in item:
            item = items[item["extends"]]
        return item.get("caption", name)

    def collect_observables(self):
        # Class and object definitions before `extends` is resolved, as the compiler
        # reads them, then the dictionary's types and attributes.
        for name, cls in self.classes.items():
            caption = self.caption_of(self.classes, name)
            for attr_name, attribute in cls.get("attributes", {}).items():
                if "observable" in attribute:
                    self.add_observable(attribute["observable"], f"{caption} Class: {attr_name}")
            for path, type_id in cls.get("observables", {}).items():
                self.add_observable(type_id, f"{caption} Class: {path}")
        for name, obj in self.objects.items():
            caption = self.caption_of(self.objects, name)
            if "observable" in obj:
                self.add_observable(obj["observable"], obj.get("caption", name))
            for attr_name, attribute in obj.get("attributes", {}).items():
                if "observable" in attribute:
                    self.add_observable(attribute["observable"], f"{caption} Object: {attr_name}")

    def collect_dictionary_observables(self):
        for detail in list(self.types.values()) + list(self.dict_attributes.values()):
            if "observable" in detail:
                self.add_observable(detail["observable"], detail.get("caption", ""))

    # -- the compile -------------------------------------------------------------------

    def compile(self):
        for item in list(self.classes.values()) + list(self.objects.values()):
            self.resolve_includes(item)

        for attribute in self.dict_attributes.values():
            if attribute.get("type") not in self.types:
                attribute["object_type"] = attribute["type"]
                attribute["type"] = "object_t"
                if attribute["object_type"] not in self.objects:
                    raise SchemaError(f"undefined object {attribute['object_type']}")

        self.collect_observables()
        self.classes = self.resolve_extends(self.classes, "class")
        self.classes = {
            n: c for n, c in self.classes.items() if n == "base_event" or "uid" in c
        }
        self.enrich_classes()
        self.objects = self.resolve_extends(self.objects, "object")
        self.objects = {n: o for n, o in self.objects.items() if not n.startswith("_")}

        # The datetime profile's dictionary siblings of timestamp_t attributes.
        has_datetime = "datetime" in self.profiles and "datetime_t" in self.types
        if has_datetime:
            for name, attribute in list(self.dict_attributes.items()):
                if attribute.get("type") == "timestamp_t":
                    sibling = copy.deepcopy(attribute)
                    sibling["type"] = "datetime_t"
                    self.dict_attributes[f"{name}_dt"] = sibling
        self.collect_dictionary_observables()

        observable = self.objects.get("observable")
        if observable is not None:
            enum = observable["attributes"].setdefault("type_id", {}).setdefault("enum", {})
            for key, caption in self.observable_type_ids.items():
                if key in enum:
                    raise SchemaError(f"observable type_id {key} collides")
                enum[key] = {"caption": caption}

        for items in (self.objects, self.classes):
            for item in items.values():
                self.add_datetime_attributes(item, has_datetime)
        for items in (self.objects, self.classes):
            for item in items.values():
                for attribute in item["attributes"].values():
                    if attribute.get("requirement") is None:
                        attribute["requirement"] = "optional"
                finished = {}
                for name, attribute in item["attributes"].items():
                    if name not in self.dict_attributes:
                        raise SchemaError(f"{item['name']}.{name} is not in the dictionary")
                    merged = copy.deepcopy(self.dict_attributes[name])
                    deep_merge(merged, attribute)
                    finished[name] = merged
                item["attributes"] = finished

    def enrich_classes(self):
        for name, cls in self.classes.items():
            category = self.categories.get(cls.get("category"))
            category_uid = category.get("uid", 0) if category else 0
            cls["uid"] = category_uid * 1000 + cls.get("uid", 0)
            attributes = cls.setdefault("attributes", {})
            caption = cls.get("caption", "UNKNOWN")
            activity = attributes.get("activity_id", {})
            if "enum" not in activity:
                raise SchemaError(f"class {name}: activity_id has no enum")
            type_enum = {}
            for key, value in activity["enum"].items():
                entry = copy.deepcopy(value)
                entry["caption"] = f"{caption}: {value.get('caption', '<unknown>')}"
                type_enum[str(cls["uid"] * 100 + int(key))] = entry
            type_enum[str(cls["uid"] * 100)] = {"caption": f"{caption}: Unknown"}
            attributes.setdefault("type_uid", {})["enum"] = type_enum
            attributes.setdefault("class_uid", {})["enum"] = {
                str(cls["uid"]): {"caption": caption}
            }
            attributes.setdefault("class_name", {})
            if category:
                cls["category_uid"] = category_uid
                cls["category_name"] = category.get("caption")
                attributes.setdefault("category_uid", {})["enum"] = {
                    str(category_uid): copy.deepcopy(category)
                }
                attributes.setdefault("category_name", {})
            elif cls.get("category") == "other":
                cls["category_uid"] = 0
            else:
                raise SchemaError(f"class {name}: undefined category {cls.get('category')}")

    def add_datetime_attributes(self, item, has_datetime):
        if not has_datetime:
            return
        additions = {}
        for name, attribute in item.setdefault("attributes", {}).items():
            kind = attribute.get("type", self.dict_attributes.get(name, {}).get("type"))
            if kind == "timestamp_t":
                sibling = copy.deepcopy(attribute)
                sibling["profiles"] = ["datetime"]
                sibling["requirement"] = "optional"
                additions[f"{name}_dt"] = sibling
        item["attributes"].update(additions)


TAG = re.compile(r"<[^>]+>")


def plain(text):
    """Deprecation messages without their HTML markup."""
    return " ".join(TAG.sub("", text).split())


def compact_deprecated(detail):
    deprecated = detail.get("@deprecated")
    if deprecated is None:
        return None
    return {"since": deprecated.get("since", ""), "message": plain(deprecated.get("message", ""))}


def compact_attribute(attribute):
    out = {}
    if attribute["type"] == "object_t":
        out["object"] = attribute["object_type"]
    else:
        out["type"] = attribute["type"]
    if attribute.get("is_array"):
        out["array"] = True
    if attribute.get("requirement") in ("required", "recommended"):
        out["requirement"] = attribute["requirement"]
    if attribute.get("profiles"):
        out["profiles"] = sorted(attribute["profiles"])
    if "enum" in attribute:
        enum = {}
        for key, value in attribute["enum"].items():
            entry = {"caption": value.get("caption", "")}
            deprecated = compact_deprecated(value)
            if deprecated:
                entry["deprecated"] = deprecated
            enum[key] = entry
        out["enum"] = enum
    if "sibling" in attribute:
        out["sibling"] = attribute["sibling"]
    deprecated = compact_deprecated(attribute)
    if deprecated:
        out["deprecated"] = deprecated
    return out


def compact_item(item):
    out = {"caption": item.get("caption", item["name"])}
    if item.get("constraints"):
        out["constraints"] = item["constraints"]
    deprecated = compact_deprecated(item)
    if deprecated:
        out["deprecated"] = deprecated
    out["attributes"] = {n: compact_attribute(a) for n, a in item["attributes"].items()}
    return out


def ocsf(schema_dir, class_names):
    compiler = OcsfCompiler(Path(schema_dir))
    compiler.compile()
    classes = {}
    pending = []
    for name in class_names:
        if name not in compiler.classes:
            raise SchemaError(f"no class named {name!r}")
        cls = compiler.classes[name]
        out = compact_item(cls)
        out["name"] = name
        out["category_uid"] = cls["category_uid"]
        out["category_name"] = cls.get("category_name", "")
        classes[str(cls["uid"])] = out
        pending.extend(a["object_type"] for a in cls["attributes"].values() if "object_type" in a)
    objects = {}
    while pending:
        name = pending.pop()
        if name in objects:
            continue
        obj = compiler.objects[name]
        objects[name] = compact_item(obj)
        pending.extend(a["object_type"] for a in obj["attributes"].values() if "object_type" in a)
    types = {}
    for name, detail in compiler.types.items():
        entry = {}
        if "type" in detail:
            entry["base"] = detail["type"]
        for key in ("regex", "range", "max_len", "values"):
            if key in detail:
                entry[key] = detail[key]
        types[name] = entry
    profiles = {}
    for name, profile in compiler.profiles.items():
        profiles[name] = {
            "caption": profile.get("caption", name),
            "attributes": sorted(profile.get("attributes", {})),
        }
    return {
        "schema": "ocsf",
        "version": compiler.version,
        "classes": classes,
        "objects": objects,
        "types": types,
        "profiles": profiles,
    }


# --------------------------------------------------------------------------------------
# ECS: a reader for the YAML subset PyYAML writes for generated/ecs/ecs_flat.yml
# --------------------------------------------------------------------------------------


class YamlError(Exception):
    pass


DOUBLE_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
    "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
    "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}


def fold(lines):
    """Flow-scalar line folding: one break becomes a space, n breaks become n-1 newlines."""
    out = ""
    blank = 0
    for i, line in enumerate(lines):
        if i == 0:
            out = line
            continue
        if line == "":
            blank += 1
            continue
        out += ("\n" * blank) if blank else " "
        out += line
        blank = 0
    return out + "\n" * blank if blank else out


class FlatYaml:
    """Block mappings and sequences, plain and quoted (multi-line) scalars, `[]`, `{}`."""

    def __init__(self, text):
        self.lines = text.split("\n")
        self.pos = 0

    def error(self, message):
        raise YamlError(f"line {self.pos + 1}: {message}")

    def skip_blank(self):
        while self.pos < len(self.lines) and (
            self.lines[self.pos].strip() == "" or self.lines[self.pos].lstrip().startswith("#")
        ):
            self.pos += 1

    def indent_of(self, line):
        return len(line) - len(line.lstrip(" "))

    def parse(self):
        self.skip_blank()
        value = self.block(0)
        self.skip_blank()
        if self.pos != len(self.lines):
            self.error("unexpected content")
        return value

    def block(self, indent):
        self.skip_blank()
        line = self.lines[self.pos]
        if line[indent:].startswith("- ") or line[indent:] == "-":
            return self.sequence(indent)
        return self.mapping(indent)

    def mapping(self, indent, first_rest=None):
        out = {}
        while True:
            if first_rest is not None:
                rest, first_rest = first_rest, None
            else:
                self.skip_blank()
                if self.pos >= len(self.lines):
                    return out
                line = self.lines[self.pos]
                if self.indent_of(line) != indent or line[indent:].startswith("- "):
                    if self.indent_of(line) > indent:
                        self.error("unexpected indentation")
                    return out
                rest = line[indent:]
            key, value_text = self.split_key(rest)
            if key in out:
                self.error(f"duplicate key {key!r}")
            self.pos += 1
            out[key] = self.value(value_text, indent)

    def sequence(self, indent):
        out = []
        while True:
            self.skip_blank()
            if self.pos >= len(self.lines):
                return out
            line = self.lines[self.pos]
            if self.indent_of(line) != indent or not (
                line[indent:].startswith("- ") or line[indent:] == "-"
            ):
                return out
            rest = line[indent + 2:]
            if rest.strip() == "":
                self.pos += 1
                out.append(self.block(indent + 2))
            elif self.looks_like_key(rest):
                out.append(self.mapping(indent + 2, first_rest=rest))
            else:
                self.pos += 1
                out.append(self.value(rest, indent))

    @staticmethod
    def looks_like_key(rest):
        if rest[:1] in ("'", '"', "[", "{"):
            return False
        return re.match(r"^[^\s:#][^:#]*:(\s|$)", rest) is not None

    def split_key(self, rest):
        if rest.startswith("'"):
            end = rest.index("':")
            key = rest[1:end].replace("''", "'")
            after = rest[end + 2:]
        elif rest.startswith('"'):
            self.error("double-quoted keys are not supported")
        else:
            match = re.match(r"^([^\s:#][^:#]*?):(\s|$)", rest)
            if not match:
                self.error(f"expected a key: {rest!r}")
            key = match.group(1)
            after = rest[match.end(1) + 1:]
        return key, after.strip()

    def continuation(self, indent):
        """Lines more indented than `indent`, stripped, up to the next less indented one."""
        lines = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.strip() == "":
                lines.append("")
                self.pos += 1
                continue
            if self.indent_of(line) <= indent:
                break
            lines.append(line.strip())
            self.pos += 1
        while lines and lines[-1] == "":
            lines.pop()
            self.pos -= 1
        return lines

    def value(self, text, indent):
        if text == "":
            self.skip_blank()
            if self.pos < len(self.lines):
                line = self.lines[self.pos]
                child = self.indent_of(line)
                if child > indent:
                    return self.block(child)
                if child == indent and line[indent:].startswith("- "):
                    return self.sequence(indent)
            return None
        if text in ("|", "|-", ">", ">-") or text[:1] in ("|", ">", "&", "*", "!"):
            self.error(f"unsupported YAML construct {text!r}")
        if text.startswith("'"):
            return self.single_quoted(text)
        if text.startswith('"'):
            return self.double_quoted(text)
        if text == "[]":
            return []
        if text == "{}":
            return {}
        if text[:1] in ("[", "{"):
            self.error(f"unsupported flow collection {text!r}")
        lines = [text] + self.continuation(indent)
        return self.typed(fold([line.rstrip() for line in lines]))

    @staticmethod
    def typed(text):
        if text in ("true", "True", "TRUE"):
            return True
        if text in ("false", "False", "FALSE"):
            return False
        if text in ("null", "Null", "NULL", "~"):
            return None
        if re.fullmatch(r"[-+]?[0-9]+", text):
            return int(text)
        if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
            return float(text)
        return text

    def quoted_lines(self, first, quote):
        """The lines of a quoted scalar up to its closing quote, and the text after it."""
        lines = [first]
        while True:
            line = lines[-1]
            i = 0
            while i < len(line):
                if quote == "'" and line[i] == "'":
                    if line[i + 1: i + 2] == "'":
                        i += 2
                        continue
                    lines[-1] = line[:i]
                    return lines, line[i + 1:].strip()
                if quote == '"' and line[i] == "\\":
                    i += 2
                    continue
                if quote == '"' and line[i] == '"':
                    lines[-1] = line[:i]
                    return lines, line[i + 1:].strip()
                i += 1
            if self.pos >= len(self.lines):
                self.error("unterminated quoted scalar")
            lines.append(self.lines[self.pos])
            self.pos += 1

    def single_quoted(self, text):
        lines, tail = self.quoted_lines(text[1:], "'")
        if tail:
            self.error(f"text after a quoted scalar: {tail!r}")
        return fold_quoted(lines, lambda segment: segment.replace("''", "'"), escapes=False)

    def double_quoted(self, text):
        lines, tail = self.quoted_lines(text[1:], '"')
        if tail:
            self.error(f"text after a quoted scalar: {tail!r}")
        return fold_quoted(lines, self.unescape, escapes=True)

    def unescape(self, segment):
        out = []
        i = 0
        while i < len(segment):
            ch = segment[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = segment[i + 1]
            if nxt in DOUBLE_ESCAPES:
                out.append(DOUBLE_ESCAPES[nxt])
                i += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(nxt)
            if width is None:
                self.error(f"unknown escape \\{nxt}")
            out.append(chr(int(segment[i + 2: i + 2 + width], 16)))
            i += 2 + width
        return "".join(out)


def trailing_backslashes(line):
    return len(line) - len(line.rstrip("\\"))


def fold_quoted(lines, unescape, escapes):
    """Join a quoted scalar's lines: a break folds to a space, n breaks to n-1 newlines;
    in double quotes a backslash before the break joins the lines with nothing."""
    out = []
    breaks = 0
    joined = False
    for number, line in enumerate(lines):
        last = number == len(lines) - 1
        if number > 0:
            line = line.lstrip(" \t")
        escaped_break = False
        if not last:
            if escapes and trailing_backslashes(line) % 2 == 1:
                line = line[:-1]
                escaped_break = True
            else:
                while line and line[-1] in " \t":
                    if escapes and trailing_backslashes(line[:-1]) % 2 == 1:
                        break  # an escaped blank is content
                    line = line[:-1]
        if number > 0:
            if not joined:
                breaks += 1
            joined = False
            if line == "" and not last and not escaped_break:
                continue
            if breaks:
                out.append(" " if breaks == 1 else "\n" * (breaks - 1))
            breaks = 0
        out.append(unescape(line))
        joined = escaped_break
    return "".join(out)


def ecs(ecs_dir):
    base = Path(ecs_dir)
    version = (base / "version").read_text(encoding="utf-8").strip()
    flat = FlatYaml((base / "generated" / "ecs" / "ecs_flat.yml").read_text(encoding="utf-8")).parse()
    fields = {}
    for name, detail in flat.items():
        if detail.get("flat_name", name) != name:
            raise SchemaError(f"field {name}: flat_name {detail.get('flat_name')!r}")
        entry = {"type": detail["type"]}
        if "array" in (detail.get("normalize") or []):
            entry["array"] = True
        if detail.get("required"):
            entry["required"] = True
        if "allowed_values" in detail:
            entry["allowed"] = {
                value["name"]: sorted(value.get("expected_event_types", []))
                for value in detail["allowed_values"]
            }
        if "expected_values" in detail:
            entry["expected"] = list(detail["expected_values"])
        if "pattern" in detail:
            entry["pattern"] = detail["pattern"]
        if "object_type" in detail:
            entry["object_type"] = detail["object_type"]
        fields[name] = entry
    return {"schema": "ecs", "version": version, "fields": fields}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="schema", required=True)
    p_ocsf = sub.add_parser("ocsf", help="compile an ocsf-schema checkout")
    p_ocsf.add_argument("path", help="ocsf/ocsf-schema checked out at a release tag")
    p_ocsf.add_argument(
        "--class", dest="classes", action="append", metavar="NAME",
        help="a class to keep (repeatable; default: detection_finding)",
    )
    p_ecs = sub.add_parser("ecs", help="read an elastic/ecs checkout")
    p_ecs.add_argument("path", help="elastic/ecs checked out at a release tag")
    args = parser.parse_args()
    if args.schema == "ocsf":
        out = ocsf(args.path, args.classes or ["detection_finding"])
    else:
        out = ecs(args.path)
    sys.stdout.write(layout(out))
    sys.stdout.write("\n")


# Members of these maps are written one per line: a reviewable diff, a small file.
ONE_LINE_MEMBERS = {"attributes", "fields", "types", "profiles"}


def compact(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def layout(value, indent=0, one_line_members=False):
    if not isinstance(value, dict) or not value:
        return compact(value)
    pad = " " * (indent + 1)
    members = []
    for key in sorted(value):
        if one_line_members:
            text = compact(value[key])
        else:
            text = layout(value[key], indent + 1, key in ONE_LINE_MEMBERS)
        members.append(f"{pad}{json.dumps(key, ensure_ascii=False)}:{text}")
    return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"


if __name__ == "__main__":
    main()
