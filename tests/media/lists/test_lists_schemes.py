from __future__ import annotations

import pytest

from cosea.errors import InputError, NotFound
from cosea.media.lists import get_scheme, scheme_names


def test_bundled_schemes_load_and_name_their_defaults() -> None:
    assert {"default", "vics", "caid"} <= set(scheme_names())
    default = get_scheme("default")
    assert default.codes == ["known-abuse", "of-concern", "known-benign"]
    assert default.default_category == "of-concern"
    assert default.known_good_category == "known-benign"
    assert get_scheme("vics").codes == ["uncategorised", "0", "1", "2", "3", "4"]
    assert get_scheme("caid").codes[:3] == ["A", "B", "C"]
    with pytest.raises(NotFound, match="unknown category scheme"):
        get_scheme("none-such")


def test_codes_and_aliases_resolve_case_insensitively() -> None:
    vics = get_scheme("vics")
    assert vics.resolve("1") == "1"
    assert vics.resolve(1) == "1"
    assert vics.resolve("Category 2") == "2"
    assert vics.resolve("Uncategorized") == "uncategorised"
    assert vics.resolve("7") is None
    caid = get_scheme("caid")
    assert caid.resolve("a") == "A"
    assert caid.resolve("Cat B") == "B"
    assert get_scheme("default").resolve("Known-Benign") == "known-benign"


def test_mappings_between_schemes_are_explicit() -> None:
    vics, caid, default = get_scheme("vics"), get_scheme("caid"), get_scheme("default")
    assert vics.map_to("1", default) == "known-abuse"
    assert vics.map_to("0", default) == "known-benign"
    assert vics.map_to("3", default) == "of-concern"
    assert caid.map_to("B", vics) == "1"
    assert caid.map_to("C", default) == "known-abuse"
    assert default.map_to("known-benign", vics) == "0"
    # No sensible grading: known abuse cannot be given a CAID category A, B or C.
    assert default.map_to("known-abuse", caid) is None
    assert vics.map_to("1", caid) is None
    assert vics.map_to("2", vics) == "2"


def test_a_scheme_can_be_added_as_configuration(cosea_home) -> None:
    folder = cosea_home / "categories"
    folder.mkdir()
    (folder / "hotline.yaml").write_text(
        "name: hotline\n"
        "title: A hotline's own grading\n"
        "description: Test scheme.\n"
        "default_category: review\n"
        "known_good_category: fine\n"
        "categories:\n"
        "  - {code: confirmed, label: Confirmed, description: Confirmed by an analyst., "
        "maps_to: {default: known-abuse}}\n"
        "  - {code: review, label: Review, description: Needs a person.}\n"
        "  - {code: fine, label: Fine, description: Not of interest.}\n"
    )
    assert "hotline" in scheme_names()
    scheme = get_scheme("hotline")
    assert scheme.map_to("confirmed", get_scheme("default")) == "known-abuse"
    (folder / "broken.yaml").write_text(
        "name: broken\ntitle: x\ndescription: x\ndefault_category: nope\n"
        "known_good_category: nope\ncategories: []\n"
    )
    with pytest.raises(InputError, match=r"broken\.yaml"):
        get_scheme("broken")
