"""Templates and the parsers of LLM answers: level labels, loose rubric JSON, flags."""

from __future__ import annotations

import pytest

from microverse.bench.models import Dimension, Level
from microverse.build.loose_json import json_values
from microverse.build.parse_level import LevelParseError, parse_level
from microverse.build.parse_rubric import RubricParseError, parse_rubric
from microverse.build.prompts import load_template
from microverse.errors import MicroverseError


def test_templates_are_the_papers_and_render_literally():
    tasks = load_template("tasks")
    assert tasks.name == "tasks_v1" and len(tasks.sha256) == 64
    text = tasks.render(video_title="Mitosis {in} 3D", video_description="A cell divides.")
    assert "The video title is:\n\nMitosis {in} 3D" in text and "{video_description}" not in text
    assert "single, complete paragraph" in text
    classify = load_template("classify").render(Task_Description="Neurons fire.")
    assert "3. Subcellular-level simulations" in classify and classify.rstrip().endswith("provided.")
    rubric = load_template("rubrics").render(prompt="A T cell kills a tumour cell.")
    assert '"s1": "+1"' in rubric and rubric.rstrip().endswith("A T cell kills a tumour cell.")
    with pytest.raises(ValueError):
        load_template("rubrics").render(task="x")
    with pytest.raises(MicroverseError, match="no template version 9"):
        load_template("tasks", 9)


@pytest.mark.parametrize("answer,level", [
    ("Cellular-level simulations", Level.CELLULAR),
    ("**2. Cellular-level simulations** – cell migration and signaling", Level.CELLULAR),
    ("Category: subcellular level", Level.SUBCELLULAR),
    ("Sub-cellular", Level.SUBCELLULAR),
    ("Subcellular-level simulations – tasks focusing on molecular processes within cells", Level.SUBCELLULAR),
    ("The most appropriate category label is: Organ-level simulations.", Level.ORGAN),
    ("organ level", Level.ORGAN),
    ("3.", Level.SUBCELLULAR),
    ("Answer: 1", Level.ORGAN),
    ("Cell-level simulation", Level.CELLULAR),
])
def test_level_label_variants(answer, level):
    assert parse_level(answer) == level


@pytest.mark.parametrize("answer,message", [
    ("", "empty"), ("banana", "no level"), ("Organ-level or cellular-level", "several levels"),
    ("Organelle dynamics", "no level"),  # 'organelle' is not 'organ'
])
def test_level_refused_when_unclear(answer, message):
    with pytest.raises(LevelParseError, match=message):
        parse_level(answer)


def test_loose_json_repairs_only_small_slips():
    assert json_values('Sure!\n```json\n{"a1": "x", "w1": "1.0",}\n```\nand {"a2": 1}') == [
        {"a1": "x", "w1": "1.0"}, {"a2": 1}]
    assert json_values("[{'a': 'Visual Quality', 'w': 0.5},]") == [[{"a": "Visual Quality", "w": 0.5}]]
    assert json_values('{“a1”: “x”}') == [{"a1": "x"}]
    assert json_values('{"a1": "cut off') == []
    assert json_values('{"a1": 1, "a1": 2}')[0].duplicates == ["a1"]


FLAT = """```json
{
  "a1": "Scientific Fidelity", "d1": "Mitochondria are oval with cristae", "s1": "+1", "w1": "1.0",
  "a2": "Visual Quality", "d2": "Sharp membranes", "s2": "", "w2": 0.5,
  "a_3": "instruction-following", "d_3": "Shows ATP synthesis", "s_3": -1, "w_3": "1.5",
  "A4": "Scientific fidelity (SF)", "D4": "No nucleus in the mitochondrion", "S4": "−1", "W4": ".2",
}
```"""


def test_flat_rubric_with_varied_keys_and_types():
    criteria = parse_rubric(FLAT)
    assert [c.number for c in criteria] == [1, 2, 3, 4]
    assert [c.dimension for c in criteria] == [Dimension.SCIENTIFIC, Dimension.VISUAL, Dimension.INSTRUCTION,
                                               Dimension.SCIENTIFIC]
    assert [c.polarity for c in criteria] == [1, 1, -1, -1]
    assert [c.weight for c in criteria] == [1.0, 0.5, 1.5, 0.2]
    assert criteria[0].flags == []
    assert criteria[1].flags == ["polarity_assumed_positive"] and not criteria[1].blocked
    assert criteria[2].flags == ["weight_out_of_range:1.5"] and criteria[2].blocked
    assert criteria[0].raw == {"a": "Scientific Fidelity", "d": "Mitochondria are oval with cristae", "s": "+1",
                               "w": "1.0"}


def test_list_wrapper_and_long_keys_and_bad_values():
    answer = """Here are the rubrics:
    {"rubrics": [
      {"a1": "Scientific Fidelity", "d1": "Spindle forms", "s1": "+1", "w1": "0.5"},
      {"a1": "Visual Quality", "d1": "Crisp", "s1": "+1", "w1": "0.2"},
      {"aspect": "Smell", "description": "", "polarity": "+2", "weight": "high"},
      {"dimension": "Instruction Following", "criterion": "Follows", "sign": "negative", "weight": "0.5 (secondary)"}
    ]}"""
    criteria = parse_rubric(answer)
    assert [c.number for c in criteria] == [1, 2, 3, 4]  # restarted a1 numbering: renumbered in order
    bad = criteria[2]
    assert bad.dimension is None and bad.polarity is None and bad.weight is None and bad.blocked
    assert set(f.split(":")[0] for f in bad.flags) == {"dimension_unknown", "description_empty", "polarity_invalid",
                                                       "weight_invalid"}
    last = criteria[3]
    assert last.polarity == -1 and last.weight == 0.5 and last.flags == ["weight_extra_text:'0.5 (secondary)'"]


def test_numbered_object_of_objects_and_zero_weight():
    answer = '{"1": {"a": "Visual", "d": "Bright", "s": 1, "w": 0}, "2": {"a": "Visual", "d": "Clear", "s": 1, "w": 1}}'
    criteria = parse_rubric(answer)
    assert [c.weight for c in criteria] == [0.0, 1.0]
    assert criteria[0].flags == ["weight_out_of_range:0"]


@pytest.mark.parametrize("answer", ["I cannot help with that.", '{"score": 3}', '{"a1": "Scientific", "d1": "unterminated'])
def test_malformed_rubric_answers_are_errors(answer):
    with pytest.raises(RubricParseError, match="no criterion"):
        parse_rubric(answer)
