"""Run by QGIS's own Python (see tests/qgis_helpers.py): open GeoPackage layers as QGIS does, report the style
each comes up with, apply every other style stored in the file, and render each to a PNG.

Usage: render_layers.py OUT_DIR GPKG|LAYER [GPKG|LAYER ...]. Prints one JSON object:
{"layers": [{"uri", "valid", "features", "styles": [{"name", "default", "renderer", "attr", "classes",
"labels", "symbols": {fid: "#rrggbb" or null}, "label_texts": {fid: text}, "png", "drawn", "colours"}]}]}
where "drawn" counts the pixels that are not the white background and "colours" the pixel count of each
colour (#rrggbb) drawn, for the first style (the default QGIS applied on opening) and each stored style.
"""

import json
import os
import sys
from collections import Counter
from pathlib import Path

from qgis.core import (QgsApplication, QgsExpression, QgsExpressionContext, QgsExpressionContextUtils,
                       QgsMapRendererParallelJob, QgsMapSettings, QgsRenderContext, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QFontDatabase
from qgis.PyQt.QtXml import QDomDocument

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
if os.environ.get("GEP_QGIS_FONT"):  # the project's CJK font, so Chinese labels draw on machines without one
    QFontDatabase.addApplicationFont(os.environ["GEP_QGIS_FONT"])


def render(layer, png):
    s = QgsMapSettings()
    s.setLayers([layer])
    s.setDestinationCrs(layer.crs())
    ext = layer.extent()
    ext.scale(1.1)
    s.setExtent(ext)
    s.setOutputSize(QSize(480, 360))
    s.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(s)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    img.save(str(png), "PNG")
    counts = Counter()
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = QColor(img.pixel(x, y)).name()
            if c != "#ffffff":
                counts[c] += 1
    return sum(counts.values()), dict(counts.most_common(12))


def describe(layer, name, default, png):
    r = layer.renderer()
    out = {"name": name, "default": default, "renderer": r.type(), "attr": None, "classes": None,
           "labels": bool(layer.labelsEnabled()), "symbols": {}, "label_texts": {}}
    if r.type() == "categorizedSymbol":
        out["attr"], out["classes"] = r.classAttribute(), [[c.value(), c.label()] for c in r.categories()]
    elif r.type() == "graduatedSymbol":
        out["attr"] = r.classAttribute()
        out["classes"] = [[g.lowerValue(), g.upperValue(), g.label()] for g in r.ranges()]
    ctx = QgsRenderContext()
    ectx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    ctx.setExpressionContext(ectx)
    r.startRender(ctx, layer.fields())
    label_expr = None
    if layer.labelsEnabled():
        settings = layer.labeling().settings()
        label_expr = QgsExpression(settings.fieldName if settings.isExpression else f'"{settings.fieldName}"')
    for f in layer.getFeatures():
        ctx.expressionContext().setFeature(f)
        sym = r.symbolForFeature(f, ctx)
        out["symbols"][str(f.id())] = sym.color().name() if sym is not None else None
        if label_expr is not None:
            ectx.setFeature(f)
            v = label_expr.evaluate(ectx)
            out["label_texts"][str(f.id())] = None if label_expr.hasEvalError() else str(v)
    r.stopRender(ctx)
    out["png"] = str(png)
    out["drawn"], out["colours"] = render(layer, png)
    return out


def main(out_dir, uris):
    out_dir = Path(out_dir)
    result = []
    for k, uri in enumerate(uris):
        name = uri.rsplit("=", 1)[-1]
        layer = QgsVectorLayer(uri, name, "ogr")  # default options: the default style in layer_styles is applied
        rec = {"uri": uri, "valid": layer.isValid(), "features": layer.featureCount(), "styles": []}
        result.append(rec)
        if not layer.isValid():
            continue
        n, ids, names, _descs, _err = layer.listStylesInDatabase()
        # listStylesInDatabase lists the layer's own styles first, its default among them
        rec["stored"] = list(names[: n])
        rec["styles"].append(describe(layer, "<opened>", True, out_dir / f"{k:02d}_opened.png"))
        for j, (sid, sname) in enumerate(zip(ids[:n], names[:n])):
            qml, err = layer.getStyleFromDatabase(sid)
            doc = QDomDocument()
            doc.setContent(qml)
            ok, err = layer.importNamedStyle(doc)
            rec["styles"].append({"name": sname, "import_error": None if ok else err,
                                  **({} if not ok else describe(layer, sname, False, out_dir / f"{k:02d}_{j:02d}.png"))})
    print(json.dumps({"layers": result}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
    app.exitQgis()
