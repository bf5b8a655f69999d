"""The taxonomy file: parse, located problems, and the canonical form."""

from __future__ import annotations

from kb.config import PROJECT_ROOT
from kb.content.taxonomy import RegionSpec, TagSpec, ThemeSpec, parse_regions, parse_taxonomy, serialise_taxonomy

GOOD = """\
themes:
  - slug: procurement
    label: Procurement and tender evaluation
    description: How the service was tendered.
    tags:
      - slug: cost-versus-quality
        label: Cost versus quality weighting
      - slug: contract-award
        label: Awarding contracts
  - slug: governance
    label: Governance
    description: Direction from the centre.
    tags:
      - slug: pressure-from-the-centre
        label: Pressure from the centre
"""


def messages(problems):
    return [str(problem) for problem in problems]


def test_parse_good_file():
    themes, problems = parse_taxonomy(GOOD, "content/taxonomy.yaml")
    assert problems == []
    assert themes == [
        ThemeSpec(
            "procurement",
            "Procurement and tender evaluation",
            "How the service was tendered.",
            [
                TagSpec("cost-versus-quality", "Cost versus quality weighting"),
                TagSpec("contract-award", "Awarding contracts"),
            ],
        ),
        ThemeSpec(
            "governance",
            "Governance",
            "Direction from the centre.",
            [TagSpec("pressure-from-the-centre", "Pressure from the centre")],
        ),
    ]


def test_theme_without_description_or_tags():
    themes, problems = parse_taxonomy("themes:\n  - slug: bare\n    label: Bare\n", "t.yaml")
    assert problems == []
    assert themes == [ThemeSpec("bare", "Bare", "", [])]


def test_bad_yaml_names_its_line():
    text = GOOD.replace("label: Governance", "label: Governance: and more")
    themes, problems = parse_taxonomy(text, "content/taxonomy.yaml")
    assert themes == []
    assert len(problems) == 1
    assert str(problems[0]).startswith("content/taxonomy.yaml:11: bad YAML: mapping values are not allowed here")


def test_bad_yaml_bad_indentation():
    text = "themes:\n  - slug: a\n    label: A\n   tags: []\n"
    themes, problems = parse_taxonomy(text, "t.yaml")
    assert themes == []
    assert [problem.line for problem in problems] == [4]
    assert problems[0].message.startswith("bad YAML")


def test_duplicate_tag_across_themes():
    text = GOOD.replace("slug: pressure-from-the-centre", "slug: cost-versus-quality")
    themes, problems = parse_taxonomy(text, "content/taxonomy.yaml")
    assert messages(problems) == [
        "content/taxonomy.yaml:14: tag 'cost-versus-quality' is listed in more than one place"
    ]
    # The first use keeps the tag; the theme with the repeat is still loaded, without it.
    assert [theme.slug for theme in themes] == ["procurement", "governance"]
    assert themes[1].tags == []
    assert [tag.slug for tag in themes[0].tags] == ["cost-versus-quality", "contract-award"]


def test_duplicate_tag_within_one_theme():
    text = GOOD.replace("slug: contract-award", "slug: cost-versus-quality")
    _, problems = parse_taxonomy(text, "t.yaml")
    assert messages(problems) == ["t.yaml:8: tag 'cost-versus-quality' is listed in more than one place"]


def test_duplicate_theme_slug_is_reported():
    text = GOOD.replace("slug: governance", "slug: procurement")
    themes, problems = parse_taxonomy(text, "t.yaml")
    assert [problem.line for problem in problems] == [10]
    assert "procurement" in problems[0].message
    assert [theme.slug for theme in themes] == ["procurement"]


def test_theme_missing_label():
    text = GOOD.replace("    label: Governance\n", "")
    themes, problems = parse_taxonomy(text, "content/taxonomy.yaml")
    assert messages(problems) == ["content/taxonomy.yaml:10: a theme needs a slug (lower-case-hyphenated) and a label"]
    assert [theme.slug for theme in themes] == ["procurement"]


def test_tag_missing_label():
    text = GOOD.replace("        label: Awarding contracts\n", "")
    themes, problems = parse_taxonomy(text, "t.yaml")
    assert messages(problems) == ["t.yaml:8: a tag needs a slug (lower-case-hyphenated) and a label"]
    assert [tag.slug for tag in themes[0].tags] == ["cost-versus-quality"]


def test_bad_theme_slug():
    text = GOOD.replace("slug: governance", "slug: Governance_Theme")
    themes, problems = parse_taxonomy(text, "t.yaml")
    assert messages(problems) == ["t.yaml:10: a theme needs a slug (lower-case-hyphenated) and a label"]
    assert len(themes) == 1


def test_bad_tag_slug():
    text = GOOD.replace("slug: contract-award", "slug: Contract Award")
    _, problems = parse_taxonomy(text, "t.yaml")
    assert messages(problems) == ["t.yaml:8: a tag needs a slug (lower-case-hyphenated) and a label"]


def test_unknown_theme_key():
    text = GOOD.replace("    description: Direction from the centre.\n", "    colour: red\n")
    themes, problems = parse_taxonomy(text, "t.yaml")
    assert messages(problems) == ["t.yaml:10: unknown theme keys: colour"]
    assert len(themes) == 1


def test_no_themes_key():
    _, problems = parse_taxonomy("topics: []\n", "t.yaml")
    assert messages(problems) == ["t.yaml:1: the taxonomy file needs a 'themes:' list"]


def test_empty_file():
    themes, problems = parse_taxonomy("", "t.yaml")
    assert themes == []
    assert messages(problems) == ["t.yaml:1: the taxonomy file needs a 'themes:' list"]


def test_themes_not_a_list():
    _, problems = parse_taxonomy("themes:\n  slug: a\n", "t.yaml")
    assert messages(problems) == ["t.yaml:2: 'themes' must be a list"]


def test_theme_that_is_not_a_mapping():
    _, problems = parse_taxonomy("themes:\n  - just-a-slug\n", "t.yaml")
    assert messages(problems) == ["t.yaml:2: each theme is a mapping with slug, label, description and tags"]


def test_serialise_parse_round_trip():
    themes, _ = parse_taxonomy(GOOD, "t.yaml")
    text = serialise_taxonomy(themes)
    again, problems = parse_taxonomy(text, "t.yaml")
    assert problems == []
    assert again == themes
    assert text == GOOD


def test_round_trip_of_awkward_text():
    themes = [
        ThemeSpec("a", "Label: with colon", "It's got 'quotes', # and & signs.", [TagSpec("t", "yes")]),
        ThemeSpec("b", "2013", "", []),
    ]
    again, problems = parse_taxonomy(serialise_taxonomy(themes), "t.yaml")
    assert problems == []
    assert again == themes


def test_real_taxonomy_is_in_canonical_form():
    text = (PROJECT_ROOT / "content" / "taxonomy.yaml").read_text(encoding="utf-8")
    themes, problems = parse_taxonomy(text, "content/taxonomy.yaml")
    regions, region_problems = parse_regions(text, "content/taxonomy.yaml")
    assert problems == region_problems == []
    assert len(themes) >= 5
    assert serialise_taxonomy(themes, regions) == text


def test_the_real_regions_list_has_the_english_regions_the_nations_and_the_seed_places():
    text = (PROJECT_ROOT / "content" / "taxonomy.yaml").read_text(encoding="utf-8")
    names = [region.name for region in parse_regions(text, "content/taxonomy.yaml")[0]]
    english = ["North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands"]
    english += ["East of England", "London", "South East", "South West"]
    assert set(english) | {"England", "Scotland", "Wales", "Northern Ireland", "Bristol"} <= set(names)


def test_regions_are_names_or_names_with_synonyms_and_round_trip():
    text = GOOD + "regions:\n  - name: North West\n    synonyms:\n      - North West England\n  - London\n"
    regions, problems = parse_regions(text, "t.yaml")
    assert problems == []
    assert regions == [RegionSpec("North West", ["North West England"]), RegionSpec("London")]
    themes, _ = parse_taxonomy(text, "t.yaml")
    assert serialise_taxonomy(themes, regions) == text


def test_a_bad_or_repeated_region_is_reported_by_line_and_left_out():
    text = "themes: []\nregions:\n  - London\n  - name: ''\n  - london\n  - {name: Wales, colour: red}\n"
    regions, problems = parse_regions(text, "content/taxonomy.yaml")
    assert regions == [RegionSpec("London")]
    assert messages(problems) == [
        "content/taxonomy.yaml:4: a region is a name, or a mapping with a name and synonyms",
        "content/taxonomy.yaml:5: region 'london' is listed more than once",
        "content/taxonomy.yaml:6: a region is a name, or a mapping with a name and synonyms",
    ]


def test_a_taxonomy_without_regions_has_an_empty_list():
    assert parse_regions(GOOD, "t.yaml") == ([], [])
