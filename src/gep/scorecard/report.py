"""The HTML report ``report/index.html``: one self-contained file (CSS inline, images as base64 data URIs).

Sections: summary, the 两山指数 table of every region, indicator 10's items, P/DEMO warning and change by item
(:mod:`.gep_review`), maps, trend charts, methods and parameter sources,
provenance (inputs with checksums, versions, config). Every piece of user text (region names, responsible
units, notes, config values) goes through jinja2's autoescape, and a Content-Security-Policy forbids scripts,
so a region named ``<script>…</script>`` prints as text.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from gep.core.atomic import write_text
from gep.scorecard.gep_review import (
    CHANGE_COLUMNS,
    CHANGE_HEADERS,
    ITEM_COLUMNS,
    ITEM_HEADERS,
    TOP_CHANGES,
    GepReview,
)
from gep.scorecard.index import by_indicator, region_label
from gep.indicators.judgement import INCOMPLETE, MET, NO_DATA, NOT_COMPUTED, NOT_MET, NOT_SURVEYED, STATUSES
from gep.scorecard.standard import JUDGEMENTS, LianshanStandard

STATUS_CLASS = {MET: "met", NOT_MET: "notmet", NOT_COMPUTED: "pending", NOT_SURVEYED: "pending", NO_DATA: "nodata",
                INCOMPLETE: "incomplete"}
DATA_LABELS = {"department": "部门填报（模板）", "coverage": "gep：forest_grass_coverage",
               "protected": "gep：protected_change", "gep": "gep：gep_summary"}

TEMPLATE = r"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
{{ font_css }}
body { font-family: "GEP CJK", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 24px auto; max-width: 1180px; color: #222; line-height: 1.5; padding: 0 16px; }
h1 { font-size: 26px; border-bottom: 3px solid #2e7d32; padding-bottom: 6px; }
h2 { font-size: 21px; margin-top: 36px; border-left: 6px solid #2e7d32; padding-left: 8px; }
h3 { font-size: 17px; margin-top: 22px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; vertical-align: middle; }
th { background: #ddebf7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.met, td.notmet, td.pending, td.nodata, td.incomplete { white-space: nowrap; }
td.met { background: #c6efce; color: #006100; }
td.notmet { background: #ffc7ce; color: #9c0006; }
td.pending { background: #ffeb9c; color: #9c5700; }
td.nodata { background: #e0e0e0; color: #404040; }
td.incomplete { background: #e4dcf3; color: #3f2a6b; }
.meta { color: #555; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card b { font-size: 22px; display: block; }
figure { margin: 12px 0 24px; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 13px; color: #555; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; max-height: 480px; }
.warn { background: #fff4e5; border: 1px solid #f0b070; padding: 6px 10px; }
code { font-size: 12px; }
pre, code { font-family: "DejaVu Sans Mono", Consolas, monospace, "GEP CJK"; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">标准：{{ standard.title }}（{{ standard.name }}）· 年份：{{ years_text }} · 区域数：{{ n_regions }} ·
生成时间：{{ created }} · gep {{ gep_version }}</p>

<h2 id="summary">一、摘要</h2>
<p>共 {{ n_regions }} 个区域、{{ n_indicators }} 项指标。最近一年（{{ last_year }}年）各状态的指标数（所有区域合计）：</p>
<div class="cards">
{% for s, n in last_counts %}<div class="card"><b>{{ n }}</b>{{ s }}</div>
{% endfor %}</div>
<h3>{{ last_year }}年各区域达标情况</h3>
<table>
<tr><th>区域代码</th><th>区域名称</th>{% for ind in indicators %}<th title="{{ ind.name }}">{{ ind.no }}</th>{% endfor %}
{% for s in statuses %}<th>{{ s }}</th>{% endfor %}</tr>
{% for r in summary_rows %}<tr><td>{{ r.code }}</td><td>{{ r.name }}</td>
{% for st in r.statuses %}<td class="{{ st.cls }}" title="{{ st.title }}">{{ st.short }}</td>{% endfor %}
{% for n in r.counts %}<td class="num">{{ n }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="meta">✓ 达标 · ✗ 不达标 · … 暂未核算 / 暂未调查 / 无数据（鼠标悬停查看指标名称与状态）</p>
{% if notes %}<div class="warn"><b>注意</b><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul></div>{% endif %}

<h2 id="scorecard">二、“两山”指数评估指标表</h2>
{% for reg in regions %}
<h3>{{ reg.label }}</h3>
<table>
<tr><th rowspan="2">目标层</th><th rowspan="2">任务层</th><th rowspan="2">序号</th><th rowspan="2">指标</th>
<th rowspan="2">单位</th><th rowspan="2">目标值</th><th colspan="{{ years|length }}">现状值</th>
<th colspan="{{ years|length }}">达标情况</th>{% if reg.has_resp %}<th rowspan="2">责任单位</th>{% endif %}
<th rowspan="2">说明</th></tr>
<tr>{% for y in years %}<th>{{ y }}年</th>{% endfor %}{% for y in years %}<th>{{ y }}年</th>{% endfor %}</tr>
{% for row in reg.rows %}<tr>
{% if row.group_span %}<td rowspan="{{ row.group_span }}">{{ row.group }}</td>{% endif %}
{% if row.task_span %}<td rowspan="{{ row.task_span }}">{{ row.task }}</td>{% endif %}
<td>{{ row.no }}</td><td>{{ row.name }}</td><td>{{ row.unit }}</td><td>{{ row.target }}</td>
{% for v in row.vals %}<td class="num">{{ v }}</td>{% endfor %}
{% for st in row.statuses %}<td class="{{ st.cls }}">{{ st.status }}</td>{% endfor %}
{% if reg.has_resp %}<td>{{ row.resp }}</td>{% endif %}
<td>{% for n in row.notes %}{{ n }}{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
</tr>
{% endfor %}</table>
{% endfor %}

<h2 id="gep">三、指标 10：生态系统生产总值分项</h2>
{% if gep %}
<p>核算范围：{{ gep.scope or "未记录" }}；核算方案（profile）：{{ gep.profiles or "未记录" }}。</p>
{% if gep.warning %}<div class="warn"><b>{{ gep.warning }}</b></div>{% endif %}
{% if gep.item_rows %}<h3>{{ gep.year }}年分项核算（{{ gep.n_regions }} 个区域合计）</h3>
<table><tr>{% for h in gep.item_headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in gep.item_rows %}<tr>{% for v in r %}<td{% if loop.index in gep.item_num %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="meta">功能量只在各区域单位相同时合计；单价为当年价，各区域不同时留空；数据状态取该项各行中最弱的一个
（DEMO &lt; P &lt; V2 &lt; V；docs/methods.md §5.4）。</p>
{% else %}<p>未找到 gep_services：无分项数据。</p>{% endif %}
{% if gep.change %}<h3>{{ gep.year }}年较 {{ gep.year_prev }}年的分项变化（可比价，{{ gep.n_change_regions }} 个区域合计）</h3>
<p>单位国土面积变化：{{ gep.per_km2 }} 万元/km²。按变化幅度列出前 {{ gep.top }} 项（docs/methods.md §4.9）。</p>
<table><tr>{% for h in gep.change_headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in gep.change %}<tr>{% for v in r %}<td{% if loop.index > 3 %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% else %}<p>未找到 GEP 核算表（gep_summary、gep_services）。</p>{% endif %}

<h2 id="maps">四、地图</h2>
{% for fig in maps %}<figure><img src="data:image/png;base64,{{ fig.b64 }}" alt="{{ fig.title }}">
<figcaption>{{ fig.title }}</figcaption></figure>
{% else %}<p>未生成地图。</p>{% endfor %}

<h2 id="trends">五、趋势</h2>
{% for fig in trends %}<figure><img src="data:image/png;base64,{{ fig.b64 }}" alt="{{ fig.title }}">
<figcaption>{{ fig.title }}</figcaption></figure>
{% else %}<p>未生成趋势图。</p>{% endfor %}

<h2 id="methods">六、方法与参数来源</h2>
<p>标准文件：<code>{{ standard.path }}</code>；来源：{{ standard.source }}（标记 {{ standard.status }}）。
状态：达标 / 不达标 / 暂未核算（无数值或无法判断，如只有一年数据的“稳定提高”）/ 暂未调查 / 无数据。</p>
<ul>
<li>林草覆盖率（指标 7）= (林地 + 草地面积) / 区域面积 × 100%，面积为椭球面积；目标按区域地形类型
（山区 / 丘陵区 / 平原区 / 干旱半干旱地区）取值，判定取自 gep 的 forest_grass_coverage（docs/methods.md §2.4）。</li>
<li>生态保护红线面积（指标 9）：红线图斑在区域内的椭球面积（重叠只计一次），“不减少”指不少于上一年且不少于基准年，
基准年本身计为达标（docs/methods.md §3.2）。地图上的红线变化图各注明比较的是上一年还是基准年，颜色与标注为同一比较。</li>
<li>单位国土面积生态系统生产总值（指标 10）：GEP / 区域面积（万元/km²）。<b>表、地图和趋势图中的数值为当年价</b>，
“稳定提高”的达标判定按<b>可比价</b>（扣除价格变化）比较，故当年价上升而判定为“不达标”并不矛盾（说明栏给出可比价变化）；
首个核算年为“无数据”，未核算 GEP 时为“暂未核算”（docs/methods.md §4.5、§4.6）。</li>
<li>稳定提高（部门指标）：与上一个有数值的年份比较，{{ trend_text }}；只有一年数值时为“暂未核算”（docs/methods.md §5.2）。</li>
</ul>
<table>
<tr><th>序号</th><th>指标</th><th>单位</th><th>目标值</th><th>判定方式</th><th>数据来源</th><th>依据</th><th>标记</th></tr>
{% for ind in method_rows %}<tr><td>{{ ind.no }}</td><td>{{ ind.name }}</td><td>{{ ind.unit }}</td><td>{{ ind.target }}</td>
<td>{{ ind.how }}</td><td>{{ ind.data }}</td><td>{{ ind.source }}</td><td>{{ ind.status }}</td></tr>
{% endfor %}</table>

{% if table_meta %}<h3>计算表记录的参数</h3>
<table><tr><th>表</th><th>参数</th><th>值</th></tr>
{% for t, k, v in table_meta %}<tr><td><code>{{ t }}</code></td><td>{{ k }}</td><td>{{ v }}</td></tr>
{% endfor %}</table>{% endif %}

<h2 id="provenance">七、数据来源与可追溯性</h2>
{% if provenance %}
<p class="meta">运行时间：{{ provenance.created }} · gep 提交：<code>{{ provenance.gep_commit }}</code>
{% if provenance.platform %} · 平台：{{ provenance.platform }}{% endif %}</p>
<h3>输入文件（SHA-256）</h3>
<table><tr><th>文件</th><th>SHA-256</th></tr>
{% for path, sha in provenance.inputs %}<tr><td><code>{{ path }}</code></td><td><code>{{ sha }}</code></td></tr>
{% endfor %}</table>
<h3>软件版本</h3>
<table><tr><th>软件</th><th>版本</th></tr>
{% for name, v in provenance.versions %}<tr><td>{{ name }}</td><td>{{ v }}</td></tr>{% endfor %}</table>
<h3>运行配置</h3>
<pre>{{ provenance.config }}</pre>
{% else %}<p>未提供 provenance.json。</p>{% endif %}
{% if extra_inputs %}<h3>本报告读取的文件（SHA-256）</h3>
<table><tr><th>文件</th><th>SHA-256</th></tr>
{% for path, sha in extra_inputs %}<tr><td><code>{{ path }}</code></td><td><code>{{ sha }}</code></td></tr>
{% endfor %}</table>{% endif %}
</body>
</html>
"""


def embedded_font_css(text: str) -> str:
    """An ``@font-face`` rule with the CJK font subset to the characters of ``text``, as a data URI (WOFF).

    Only the glyphs the report uses are kept (≈100–300 kB), so the report shows Chinese on machines without
    CJK fonts. Returns "" when no font or fontTools is available (browsers then fall back to system fonts).
    """
    try:
        import io

        from fontTools import subset
        from fontTools.ttLib import TTFont

        from gep.scorecard.fonts import cjk_font_file

        f = cjk_font_file()
        font = TTFont(str(f), fontNumber=int(getattr(f, "face_index", 0)), lazy=True)
        opts = subset.Options()
        opts.layout_features = ["*"]
        opts.notdef_outline = True
        sub = subset.Subsetter(opts)
        sub.populate(text="".join(sorted(set(text))))
        sub.subset(font)
        font.flavor = "woff"
        buf = io.BytesIO()
        font.save(buf)
    except Exception:  # noqa: BLE001 - the font is a nicety; the report stays readable with system fonts
        return ""
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return ('@font-face { font-family: "GEP CJK"; font-style: normal; font-weight: 400; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


def _env():
    import jinja2

    # autoescape for every template: the report is HTML and holds user text everywhere
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)


def format_value(value: Any, text: Any, unit: str) -> str:
    """The value as printed in the report: '48.79%', '76.36 km²', '1,234.5 万元/km²', a text answer, or ''."""
    if text is not None and not (isinstance(text, float) and math.isnan(text)) and (
            value is None or (isinstance(value, float) and math.isnan(value))):
        return str(text)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    if unit == "%":
        return f"{v:.2f}%"
    if unit == "种":
        return f"{v:,.0f} 种"
    return f"{v:,.2f} {unit}".strip()


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _spans(labels: list[str], within: list[str] | None = None) -> list[int]:
    """Rowspan of each row's cell: the run length at a run's first row, 0 for the rows it covers."""
    spans = [0] * len(labels)
    start = 0
    for k in range(1, len(labels) + 1):
        if k == len(labels) or labels[k] != labels[start] or (within is not None and within[k] != within[start]):
            spans[start] = k - start
            start = k
    return spans


def _region_rows(g: pd.DataFrame, years: list[int]) -> tuple[list[dict], bool]:
    rows = []
    for item in by_indicator(g):
        ind, by_year = item["first"], item["by_year"]
        values, statuses, notes = [], [], []
        for y in years:
            rec = by_year.get(y)
            if rec is None:
                values.append("")
                statuses.append({"status": "", "cls": ""})
                continue
            text = rec["value_text"] if isinstance(rec["value_text"], str) else None
            values.append(format_value(rec["value"], text, ind["unit"]))
            if text and isinstance(rec["value"], float) and not math.isnan(rec["value"]):
                notes.append(f"{y}：{text}")
            statuses.append({"status": rec["status"], "cls": STATUS_CLASS.get(rec["status"], "")})
            if isinstance(rec["note"], str) and rec["note"]:
                notes.append(f"{y}：{rec['note']}")
        rows.append({"group": ind["group"], "task": ind["task"], "no": int(ind["indicator_no"]),
                     "name": ind["indicator"], "unit": ind["unit"] or "—", "target": "；".join(item["targets"]),
                     "vals": values, "statuses": statuses, "resp": item["responsible"] or "", "notes": notes})
    gs = _spans([r["group"] for r in rows])
    ts = _spans([r["task"] for r in rows], within=[r["group"] for r in rows])
    for r, a, b in zip(rows, gs, ts):
        r["group_span"], r["task_span"] = a, b
    return rows, bool(g["responsible_unit"].notna().any())


def _cell_text(column: str, value: Any) -> str:
    """A cell of the indicator-10 tables as printed: amounts with thousands separators, shares in %."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if column == "price_year":
            return str(int(value))
        if column == "share_of_change_pct":
            return f"{value:.2f}%"
        return f"{value:,.4f}" if column == "unit_price" else f"{value:,.2f}"
    return str(value)


def _text_rows(df: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    return [[_cell_text(c, v) for c, v in zip(columns, rec)] for rec in df[columns].itertuples(index=False)]


def _gep_context(review: GepReview | None) -> dict | None:
    """The indicator-10 section's texts (docs/methods.md §5.4)."""
    if review is None:
        return None
    per_km2 = review.change_per_km2_wan_yuan
    return {"scope": "；".join(review.scope), "profiles": "；".join(review.profiles), "warning": review.warning,
            "year": review.year, "n_regions": review.n_regions, "item_headers": ITEM_HEADERS,
            "item_rows": _text_rows(review.items, ITEM_COLUMNS),
            "item_num": {k + 1 for k, c in enumerate(ITEM_COLUMNS)
                         if c in ("quantity", "unit_price", "value_wan_yuan", "value_constant_wan_yuan")},
            "change_headers": CHANGE_HEADERS, "change": _text_rows(review.change, CHANGE_COLUMNS),
            "year_prev": review.change_year_prev, "n_change_regions": review.n_change_regions, "top": TOP_CHANGES,
            "per_km2": "" if math.isnan(per_km2) else f"{per_km2:,.4f}"}


def _provenance(prov: Mapping | None) -> dict | None:
    if not prov:
        return None
    inputs = prov.get("inputs") or {}
    versions = prov.get("versions") or {}
    return {
        "created": prov.get("created", ""),
        "gep_commit": prov.get("gep_commit") or "（未知）",
        "platform": prov.get("platform", ""),
        "inputs": sorted((str(k), str(v)) for k, v in inputs.items()),
        "versions": sorted((str(k), str(v)) for k, v in versions.items()),
        "config": json.dumps(prov.get("config", {}), ensure_ascii=False, indent=2, sort_keys=True, default=str),
    }


def render_report(index: pd.DataFrame, standard: LianshanStandard, *, maps: Iterable[tuple[str, Path]] = (),
                  trends: Iterable[tuple[str, Path]] = (), provenance: Mapping | None = None,
                  notes: Iterable[str] = (), title: str | None = None,
                  extra_inputs: Mapping[str, str] | None = None, table_meta: Mapping[str, Mapping] | None = None,
                  gep: GepReview | None = None, embed_font: bool = True) -> str:
    """The report's HTML text. ``maps``/``trends``: (caption, PNG path) pairs, inlined as data URIs.

    ``extra_inputs``: further files (path → SHA-256) the report lists; ``table_meta``: parameters recorded by the
    pipeline's tables (table → {key: value}). ``gep``: indicator 10's items, P/DEMO warning and change by item
    (:func:`gep.scorecard.gep_review.gep_review`; section 三). ``embed_font``: embed a subset of the bundled CJK font (see
    :func:`embedded_font_css`).
    """
    from gep import __version__

    years = sorted(int(y) for y in index["year"].unique()) if len(index) else []
    last = years[-1] if years else None
    regions = []
    summary_rows = []
    for code, g in index.groupby("region_code", sort=True):
        name = str(g["region_name"].iloc[0])
        rows, has_resp = _region_rows(g, years)
        regions.append({"code": str(code), "name": name, "label": region_label(name, code), "rows": rows,
                        "has_resp": has_resp})
        gl = g[g["year"] == last]
        by_no = {int(r.indicator_no): r.status for r in gl.itertuples(index=False)}
        counts = gl["status"].value_counts()
        summary_rows.append({
            "code": str(code), "name": name,
            "statuses": [{"short": {MET: "✓", NOT_MET: "✗"}.get(by_no.get(i.no, ""), "…" if by_no.get(i.no) else ""),
                          "cls": STATUS_CLASS.get(by_no.get(i.no, ""), ""), "title": f"{i.no} {i.name}：{by_no.get(i.no, '')}"}
                         for i in standard.indicators],
            "counts": [int(counts.get(s, 0)) for s in STATUSES]})
    last_counts = index[index["year"] == last]["status"].value_counts() if last is not None else pd.Series(dtype=int)
    trend_rules = {(i.trend_rule, i.trend_strict) for i in standard.indicators if i.judgement == "trend"}
    rule, strict = next(iter(trend_rules)) if trend_rules else ("previous", False)
    trend_text = ("数值须高于上一年" if strict else "数值不低于上一年即为达标（持平为“稳定”）") + \
        ("，且自首年起每一步都须满足" if rule == "monotone" else "")
    method_rows = []
    for ind in standard.indicators:
        how = JUDGEMENTS[ind.judgement]
        if ind.judgement == "threshold" and ind.threshold is not None:
            how = f"数值 {ind.comparison} {ind.threshold:g}{ind.unit}"
        elif ind.reference:
            how = f"数值 {ind.comparison} {ind.reference}（部门按年填报参考值）"
        elif ind.targets_pct:
            how = "按地形类型：" + "，".join(f"{k}{ind.comparison}{v:g}%" for k, v in ind.targets_pct.items())
        method_rows.append({"no": ind.no, "name": ind.name, "unit": ind.unit or "—", "target": ind.target,
                            "how": how, "data": DATA_LABELS[ind.data], "source": ind.source,
                            "status": ind.status + (f"；{ind.note}" if ind.note else "")})
    ctx = {
        "title": title or "“两山”指数评估报告",
        "standard": standard, "years": years, "years_text": "、".join(map(str, years)),
        "n_regions": len(regions), "n_indicators": len(standard.indicators),
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "gep_version": __version__,
        "last_year": last, "last_counts": [(s, int(last_counts.get(s, 0))) for s in STATUSES],
        "indicators": standard.indicators, "statuses": STATUSES, "summary_rows": summary_rows,
        "notes": list(notes), "regions": regions,
        "maps": [{"title": t, "b64": _b64(p)} for t, p in maps],
        "trends": [{"title": t, "b64": _b64(p)} for t, p in trends],
        "trend_text": trend_text, "method_rows": method_rows, "provenance": _provenance(provenance),
        "gep": _gep_context(gep),
        "extra_inputs": sorted((extra_inputs or {}).items()),
        "table_meta": [(t, str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True,
                                                                           default=str))
                       for t, meta in sorted((table_meta or {}).items()) for k, v in sorted(meta.items())],
    }
    template = _env().from_string(TEMPLATE)
    if not embed_font:
        return template.render(font_css="", **ctx)
    from markupsafe import Markup

    # render once to learn which characters the page uses, then embed a font subset holding exactly those
    draft = template.render(font_css="", **{**ctx, "maps": [], "trends": []})
    return template.render(font_css=Markup(embedded_font_css(draft)), **ctx)


def write_report(path: str | Path, index: pd.DataFrame, standard: LianshanStandard, **kwargs) -> Path:
    """Render the report (see :func:`render_report`) and write it atomically to ``path``."""
    path = Path(path)
    write_text(path, render_report(index, standard, **kwargs))
    return path


__all__ = ["format_value", "render_report", "write_report"]
