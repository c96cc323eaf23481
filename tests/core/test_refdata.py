"""Reference data through one validated loader (gep.core.refdata): one line per problem naming file and key,
and indicator 7's targets stored once (in the coverage standard, which the 两山指数 lists name)."""

from pathlib import Path

import pytest
import yaml

from gep.accounting.classes import load_scheme
from gep.core.errors import InputError
from gep.core.refdata import Number, Reference, Text, load_reference
from gep.indicators.coverage.index import available_standards, load_standard
from gep.scorecard.standard import available_standards as available_lists
from gep.scorecard.standard import load_lianshan_standard


class Thing(Reference):
    name: Text
    size: Number
    tags: list[str] = []


def _write(tmp_path, text, name="thing.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_load_reference_reads_and_keeps_the_file(tmp_path):
    p = _write(tmp_path, "name: 2019\nsize: 3\nextra_key: kept\n")
    t = load_reference("standards", p, Thing, what="thing")
    assert (t.name, t.size, t.file, t.extra) == ("2019", 3.0, p, {"extra_key": "kept"})


def test_load_reference_errors_name_file_and_key(tmp_path):
    p = _write(tmp_path, "size: yes\ntags: [a, {b: 1}]\n")
    with pytest.raises(InputError) as err:
        load_reference("standards", p, Thing, what="thing", layout="x/thing.yaml")
    lines = err.value.lines()
    assert len(lines) == 3 and all(line.startswith(f"{p}: key '") for line in lines)
    assert any("key 'name' is missing" in line for line in lines)
    assert any("key 'size' = True: should be a number" in line for line in lines)
    assert any("key 'tags[1]'" in line for line in lines)
    assert all("fix the thing file (laid out like x/thing.yaml)" in line for line in lines)


def test_load_reference_file_problems(tmp_path):
    with pytest.raises(InputError, match="unknown thing 'nope'; use one of"):
        load_reference("standards", "nope", Thing, what="thing", prefix="coverage_")
    with pytest.raises(InputError, match="thing file '.*missing.yaml' does not exist"):
        load_reference("standards", tmp_path / "missing.yaml", Thing, what="thing")
    with pytest.raises(InputError, match="not valid YAML"):
        load_reference("standards", _write(tmp_path, "name: [unclosed\n"), Thing, what="thing")
    with pytest.raises(InputError, match="expected a mapping"):
        load_reference("standards", _write(tmp_path, "- a\n"), Thing, what="thing")


def test_class_scheme_problems_all_at_once(tmp_path):
    p = _write(tmp_path, "name: x\nnodata: 0\nclasses:\n"
                         "  - {code: 1, name_zh: 林地, name_en: Forest, category: woods}\n"
                         "  - {code: 2.5, name_zh: 草地, name_en: Grass, category: grass}\n"
                         "  - {code: 3, name_en: Water, category: water}\n")
    with pytest.raises(InputError) as err:
        load_scheme(p)
    text = "\n".join(err.value.lines())
    assert len(err.value.lines()) == 3 and all(line.startswith(str(p)) for line in err.value.lines())
    assert "classes[0].category' = 'woods'" in text and "classes[1].code' = 2.5" in text
    assert "classes[2].name_zh' is missing" in text and "classes/clcd.yaml (gep where --data)" in text
    dup = _write(tmp_path, "nodata: 1\nclasses:\n  - {code: 1, name_zh: a, name_en: b, category: forest}\n",
                 "dup.yaml")
    with pytest.raises(InputError, match="nodata 1 is also a class code"):
        load_scheme(dup)


def test_coverage_standard_problems(tmp_path):
    p = _write(tmp_path, "comparison: '<'\ntargets_pct: {山区: 120, 高原区: 30, 平原区: true}\n")
    with pytest.raises(InputError) as err:
        load_standard(p)
    text = "\n".join(err.value.lines())
    assert "key 'comparison' = '<'" in text and "must be '>' or '≥'" in text
    assert "targets_pct.山区' = 120: is not a percentage in 0..100" in text
    assert "targets_pct.高原区" in text and "targets_pct.平原区' = True" in text
    assert "coverage_national.yaml" in text


@pytest.mark.parametrize("name", available_lists())
def test_indicator_7_target_is_the_coverage_standards(name):
    std = load_lianshan_standard(name)
    ind = std.by_no()[7]
    cov = load_standard(ind.coverage_standard)
    assert ind.coverage_standard in available_standards()
    assert dict(ind.targets_pct) == dict(cov.targets_pct) and ind.comparison == cov.comparison
    assert ind.target == " ".join(f"{k}{cov.comparison}{v:g}%" for k, v in cov.targets_pct.items())
    # stored once: the list file itself holds no targets for indicator 7
    raw = yaml.safe_load(Path(std.path).read_text(encoding="utf-8"))
    entry = next(e for e in raw["indicators"] if e["number"] == 7)
    assert not {"targets_pct", "comparison", "target", "threshold"} & set(entry)


def test_builtin_indicator_7_targets_by_hand():
    n, g = load_lianshan_standard("national").by_no()[7], load_lianshan_standard("guizhou").by_no()[7]
    assert (n.comparison, dict(n.targets_pct), n.target) == (">", {"山区": 60, "丘陵区": 40, "平原区": 18},
                                                               "山区>60% 丘陵区>40% 平原区>18%")
    assert (g.comparison, g.targets_pct["干旱半干旱地区"], g.target) == ("≥", 35, "山区≥60% 丘陵区≥40% 平原区≥18% "
                                                                          "干旱半干旱地区≥35%")


def _list_with_indicator_7(tmp_path, extra: str) -> Path:
    text = Path(load_lianshan_standard("national").path).read_text(encoding="utf-8")
    text = text.replace("    coverage_standard: national\n", extra)
    return _write(tmp_path, text, "lianshan_mine.yaml")


def test_list_may_name_its_own_coverage_standard_beside_it(tmp_path):
    _write(tmp_path, "name: county\ncomparison: '≥'\ntargets_pct: {山区: 70, 丘陵区: 50, 平原区: 20}\n", "cov.yaml")
    std = load_lianshan_standard(_list_with_indicator_7(tmp_path, "    coverage_standard: cov.yaml\n"))
    ind = std.by_no()[7]
    assert (ind.coverage_standard, ind.comparison, ind.targets_pct["山区"], ind.target) == \
        ("county", "≥", 70.0, "山区≥70% 丘陵区≥50% 平原区≥20%")


def test_list_rejects_a_second_copy_of_the_targets(tmp_path):
    p = _list_with_indicator_7(tmp_path, "    coverage_standard: national\n    targets_pct: {山区: 60}\n"
                                         "    comparison: '>'\n")
    with pytest.raises(InputError) as err:
        load_lianshan_standard(p)
    lines = err.value.lines()
    assert len(lines) == 2 and all(str(p) in line and "stored in the coverage standard only" in line for line in lines)
    assert "indicators[6].targets_pct" in lines[0] + lines[1] and "indicators[6].comparison" in lines[0] + lines[1]
    with pytest.raises(InputError, match=r"indicators\[6\].coverage_standard' is missing"):
        load_lianshan_standard(_list_with_indicator_7(tmp_path, ""))
    with pytest.raises(InputError, match=r"indicators\[6\].coverage_standard' = 'mars': unknown coverage standard"):
        load_lianshan_standard(_list_with_indicator_7(tmp_path, "    coverage_standard: mars\n"))


def test_list_top_level_problems(tmp_path):
    p = _write(tmp_path, "name: x\ngroups: []\ntrend: {rule: sometimes, strict: maybe}\nindicators: []\n",
               "lianshan_x.yaml")
    with pytest.raises(InputError) as err:
        load_lianshan_standard(p)
    text = "\n".join(err.value.lines())
    assert "key 'groups'" in text and "key 'trend.rule' = 'sometimes'" in text and "key 'trend.strict'" in text
    assert "key 'indicators'" in text and all(line.startswith(str(p)) for line in err.value.lines())


def test_scorecard_notes_a_run_judged_with_another_coverage_standard():
    import pandas as pd

    from gep.scorecard.index import consistency_notes
    nat = load_lianshan_standard("national")
    cov = pd.DataFrame({"region_code": ["1"], "year": [2020], "standard": ["guizhou"], "comparison": ["≥"],
                        "terrain_type": ["山区"], "target_pct": [60.0]})
    notes = consistency_notes(nat, cov)
    assert len(notes) == 1 and "'guizhou'" in notes[0] and "coverage.standard: national" in notes[0]
    assert consistency_notes(nat, cov.assign(standard="national", comparison=">")) == []
