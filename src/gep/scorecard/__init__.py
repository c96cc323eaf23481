"""The 两山指数 scorecard: the 20 indicators judged per region and year, and the deliverables built on them.

- :mod:`.standard`: the indicator list as data (``src/gep/data/standards/lianshan_*.yaml``);
- :mod:`.judge`: judgements (threshold, 稳定提高, 不减少, 建立实施, 获得) → 达标 / 不达标 / 暂未核算 / 暂未调查 / 无数据;
- :mod:`.template`: the department template for the 17 non-spatial indicators, written and read back;
- :mod:`.index`: the tidy ``lianshan_index`` table;
- :mod:`.workbook`, :mod:`.geopackage`, :mod:`.maps`, :mod:`.report`: Excel, GeoPackage, PNG maps, HTML report;
- :mod:`.build`: :func:`build_outputs`, the stage the workflow calls.
"""

from __future__ import annotations

from gep.scorecard.build import build_outputs, load_tables
from gep.scorecard.index import INDEX_COLUMNS, lianshan_index
from gep.scorecard.judge import (
    MET,
    NO_DATA,
    NOT_COMPUTED,
    NOT_MET,
    NOT_SURVEYED,
    STATUSES,
    judge_no_decrease,
    judge_text,
    judge_threshold,
    judge_trend,
)
from gep.scorecard.standard import Indicator, LianshanStandard, available_standards, load_lianshan_standard
from gep.scorecard.template import DepartmentData, read_template, write_template

__all__ = [
    "INDEX_COLUMNS",
    "MET",
    "NOT_COMPUTED",
    "NOT_MET",
    "NOT_SURVEYED",
    "NO_DATA",
    "STATUSES",
    "DepartmentData",
    "Indicator",
    "LianshanStandard",
    "available_standards",
    "build_outputs",
    "judge_no_decrease",
    "judge_text",
    "judge_threshold",
    "judge_trend",
    "lianshan_index",
    "load_lianshan_standard",
    "load_tables",
    "read_template",
    "write_template",
]
