"""Every export format: STIX parses and validates, the Navigator layer has the 4.5 structure,
CSV/Markdown carry everything, and the HTML is well-formed, offline and complete."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
import stix2
from stix2validator import ValidationOptions, validate_instance, validate_string

from cosea.errors import CoseaError
from cosea.matrix import Matrix, exporters, render_html
from cosea.matrix import export_matrix as export
from cosea.matrix.export.stix import TLP_CLEAR_ID

COUNTS = {"T0101": 14, "T0401": 12, "T0601": 5, "T0702": 1}


@pytest.fixture(scope="module")
def stix_text(matrix: Matrix) -> str:
    return export(matrix, "stix")


def test_registry_has_the_built_in_formats() -> None:
    assert {"stix", "navigator", "csv", "markdown", "html"} <= set(exporters())
    for exporter in exporters().values():
        assert exporter.suffix.startswith(".") and exporter.media_type and exporter.description


def test_unknown_format_is_a_clear_error(matrix: Matrix) -> None:
    with pytest.raises(CoseaError, match=r"unknown export format 'pdf'.*stix"):
        export(matrix, "pdf")


# -- STIX -------------------------------------------------------------------------------------


def test_stix_bundle_round_trips_through_stix2_parse(matrix: Matrix, stix_text: str) -> None:
    bundle = stix2.parse(stix_text, allow_custom=True)
    by_type: dict[str, list] = {}
    for obj in bundle.objects:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["attack-pattern"]) == len(matrix.techniques)
    assert len(by_type["course-of-action"]) == len(matrix.mitigations)
    assert len(by_type["x-cosea-tactic"]) == len(matrix.tactics)
    assert len(by_type["x-cosea-matrix"]) == 1
    stakeholders = [i for i in by_type["identity"] if i["identity_class"] == "class"]
    assert len(stakeholders) == len(matrix.stakeholders)
    mitigates = [r for r in by_type["relationship"] if r["relationship_type"] == "mitigates"]
    assert len(mitigates) == sum(len(t.mitigations) for t in matrix.techniques.values())


def test_stix_objects_carry_cosea_ids_kill_chain_and_tlp_clear(
    matrix: Matrix, stix_text: str
) -> None:
    objects = json.loads(stix_text)["objects"]
    tactics_by_id = {o["id"]: o for o in objects if o["type"] == "x-cosea-tactic"}
    slugs = {t.slug for t in matrix.tactics}
    seen = set()
    for obj in objects:
        if obj["type"] == "marking-definition":
            assert obj["id"] == TLP_CLEAR_ID and obj["name"] == "TLP:CLEAR"
            continue
        assert obj["object_marking_refs"] == [TLP_CLEAR_ID], obj["id"]
        if obj["type"] == "attack-pattern":
            (phase,) = obj["kill_chain_phases"]
            assert phase["kill_chain_name"] == "cosea" and phase["phase_name"] in slugs
            cosea_ref = obj["external_references"][0]
            assert cosea_ref["source_name"] == "cosea"
            technique = matrix.technique(cosea_ref["external_id"])
            assert obj["name"] == technique.name
            assert obj["x_cosea_indicators"] == list(technique.indicators)
            seen.add(technique.id)
    assert seen == set(matrix.techniques)
    (matrix_object,) = [o for o in objects if o["type"] == "x-cosea-matrix"]
    ordered = [
        tactics_by_id[ref]["external_references"][0]["external_id"]
        for ref in matrix_object["tactic_refs"]
    ]
    assert ordered == [t.id for t in matrix.tactics]


def test_stix_ids_are_stable(matrix: Matrix, stix_text: str) -> None:
    assert export(matrix, "stix") == stix_text


def test_stix_passes_the_validator_without_errors_or_warnings(stix_text: str) -> None:
    results = validate_string(stix_text, ValidationOptions(version="2.1", strict=True))
    problems = [str(e) for o in [results] for e in o.errors] + [str(w) for w in results.warnings]
    assert results.is_valid, problems
    assert problems == []


def test_stix_objects_validate_one_by_one(stix_text: str) -> None:
    for obj in json.loads(stix_text)["objects"][:12]:
        result = validate_instance(obj, ValidationOptions(version="2.1"))
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


# -- Navigator ----------------------------------------------------------------------------------


def _check_layer(layer: dict, matrix: Matrix) -> None:
    """The required fields and types of the Navigator layer format 4.5."""
    assert isinstance(layer["name"], str) and layer["name"]
    assert isinstance(layer["domain"], str) and layer["domain"]
    versions = layer["versions"]
    assert versions["layer"] == "4.5"
    assert tuple(int(p) for p in versions["navigator"].split(".")) >= (4, 9, 0)
    assert isinstance(versions.get("attack", ""), str)
    assert layer["sorting"] in (0, 1, 2, 3)
    assert layer["layout"]["layout"] in ("side", "flat", "mini")
    assert layer["layout"]["aggregateFunction"] in ("average", "min", "max", "sum")
    gradient = layer["gradient"]
    assert len(gradient["colors"]) >= 2
    assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in gradient["colors"])
    assert gradient["maxValue"] > gradient["minValue"]
    for item in layer["legendItems"]:
        assert set(item) == {"label", "color"}
    for item in layer["metadata"]:
        assert set(item) == {"name", "value"} and isinstance(item["value"], str)
    shortnames = {t.slug for t in matrix.tactics}
    for technique in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}", technique["techniqueID"])
        assert technique["tactic"] in shortnames
        assert isinstance(technique["comment"], str)
        assert isinstance(technique["enabled"], bool)
        if "score" in technique:
            assert isinstance(technique["score"], int | float)
        for item in technique["metadata"]:
            assert set(item) == {"name", "value"}


def test_navigator_layer_without_counts(matrix: Matrix) -> None:
    layer = json.loads(export(matrix, "navigator"))
    _check_layer(layer, matrix)
    assert [t["techniqueID"] for t in layer["techniques"]] == list(matrix.techniques)
    assert all("score" not in t for t in layer["techniques"])


def test_navigator_layer_scores_come_from_counts(matrix: Matrix) -> None:
    layer = json.loads(export(matrix, "navigator", COUNTS, title="Case 42"))
    _check_layer(layer, matrix)
    scores = {t["techniqueID"]: t["score"] for t in layer["techniques"]}
    assert scores["T0101"] == 14 and scores["T0702"] == 1 and scores["T0802"] == 0
    assert layer["gradient"]["maxValue"] == 14
    assert layer["name"] == "Case 42"
    tactic_of = {t["techniqueID"]: t["tactic"] for t in layer["techniques"]}
    assert tactic_of["T0401"] == matrix.tactic_of("T0401").slug == "isolation-and-secrecy"


# -- CSV and Markdown ---------------------------------------------------------------------------


def test_csv_has_a_row_per_technique(matrix: Matrix) -> None:
    rows = list(csv.DictReader(io.StringIO(export(matrix, "csv", COUNTS))))
    assert [r["technique_id"] for r in rows] == list(matrix.techniques)
    first = rows[0]
    assert first["tactic_id"] == "TA01" and first["kill_chain_order"] == "1"
    assert first["count"] == "14"
    assert first["mitigation_ids"].split(" | ") == list(matrix.technique("T0101").mitigations)


def test_markdown_covers_every_entry(matrix: Matrix) -> None:
    text = export(matrix, "markdown")
    for technique in matrix.techniques.values():
        assert f"### {technique.id} {technique.name}" in text
    for mitigation in matrix.mitigations.values():
        assert f"| {mitigation.id} |" in text
    assert "## References" in text and "Kopecký" in text


# -- HTML ---------------------------------------------------------------------------------------

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class StrictParser(HTMLParser):
    """Fails on unbalanced or misnested tags; collects ids and external references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.external: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"])
        for name in ("src", "href"):
            if values.get(name) and not values[name].startswith("#"):
                self.external.append(values[name])
        if tag == "link":
            self.external.append(str(values))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.errors.append(f"self-closed <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(
                f"</{tag}> closes <{self.stack[-1] if self.stack else None}> at {self.getpos()}"
            )
            return
        self.stack.pop()


def _parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.mark.parametrize("counts", [None, COUNTS], ids=["plain", "heatmap"])
def test_html_is_well_formed_offline_and_complete(matrix: Matrix, counts) -> None:
    page = render_html(matrix, counts, title="Matrix <test>")
    parser = _parse(page)
    assert parser.doctype
    assert parser.errors == [] and parser.stack == []
    assert parser.external == []
    assert "<title>Matrix &lt;test&gt;</title>" in page
    cells = [i for i in parser.ids if i.startswith("cell-")]
    assert cells == [f"cell-{t}" for t in matrix.techniques]
    for tactic in matrix.tactics:
        assert f'data-tactic="{tactic.id}"' in page
    data = json.loads(
        re.search(
            r'<script type="application/json" id="cosea-data">(.*?)</script>', page, re.S
        ).group(1)
    )
    assert set(data["techniques"]) == set(matrix.techniques)
    assert data["techniques"]["T0401"]["indicators"] == list(matrix.technique("T0401").indicators)
    if counts:
        assert (
            'class="legend"' in page
            and "heat-5" in page
            and data["techniques"]["T0101"]["count"] == 14
        )
    else:
        assert (
            'class="legend"' not in page
            and "heat-" not in page.split("<main")[1].split("</main>")[0]
        )


def test_html_columns_follow_the_kill_chain(matrix: Matrix) -> None:
    page = render_html(matrix)
    heads = re.findall(r'<section class="tactic"[^>]*data-tactic="(TA\d\d)"', page)
    assert heads == [t.id for t in matrix.tactics]
    steps = re.findall(r'<span class="step">(\d+)</span>', page)
    assert steps == [str(n) for n in range(1, len(matrix.tactics) + 1)]


def test_html_data_cannot_break_out_of_the_script(matrix: Matrix, data_copy) -> None:
    techniques = data_copy / "techniques.yaml"
    text = techniques.read_text(encoding="utf-8").replace(
        'asks "how old are you" or "asl" early', "asks </script><script>alert(1)</script> early"
    )
    techniques.write_text(text, encoding="utf-8")
    from cosea.matrix import load

    page = render_html(load(data_copy))
    assert "alert(1)" in page  # the hostile text is there, but only as data
    script = page.split('id="cosea-data">')[1].split("</script>")[0]
    assert "<" not in script
    assert "alert(1)</script>" not in page.split("<main")[1]
